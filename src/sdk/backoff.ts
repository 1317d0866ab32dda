/** The SDK's backoff is the shared client's (src/shared/client/backoff.ts); kept here for existing imports. */
export { Backoff, BACKOFF_DEFAULTS, type BackoffOptions } from '../shared/client/backoff'
