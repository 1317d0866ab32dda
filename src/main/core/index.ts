export { createCore, StartError, type Core, type CoreOptions } from './core'
export { loadConfig, ConfigError, type Config } from './config/config'
export { tokenSource, type Tokens } from './auth/tokens'
export type { Logger } from './logger'
