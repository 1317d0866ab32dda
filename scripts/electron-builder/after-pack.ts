/**
 * electron-builder's afterPack hook (electron-builder.yml): puts the
 * better-sqlite3 addon built for the packed Electron, platform and
 * architecture into the app's resources, at PACKED_ADDON, where
 * src/main/index.ts loads it. The addon comes from the same cache as
 * `npm start`'s (src/main/electron-sqlite.ts): a prebuilt download, or a
 * compile when packing for this machine. So `npm run dist` never rebuilds
 * the project's own node_modules (npmRebuild is off), which keep serving
 * plain Node.
 *
 * SWARM_MONITOR_PACK_SQLITE_ADDON=<file> packs that file instead: an addon
 * built by hand, or the stand-in of the offline packaging check
 * (tests/packaging/app-asar.test.ts).
 */
import { copyFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Arch, type AfterPackContext } from 'electron-builder'
import { ensureElectronAddon, PACKED_ADDON } from '../../src/main/electron-sqlite'

export const PACK_ADDON_ENV = 'SWARM_MONITOR_PACK_SQLITE_ADDON'

export default async function afterPack(context: AfterPackContext): Promise<void> {
  const arch = Arch[context.arch]
  const electronVersion = context.packager.config.electronVersion
  if (!electronVersion) throw new Error('afterPack: electron-builder did not say which Electron it packs')
  if (arch === 'universal') throw new Error('afterPack: universal macOS builds are not supported; pack x64 and arm64')
  const platform = context.electronPlatformName === 'mas' ? 'darwin' : context.electronPlatformName
  const addon =
    process.env[PACK_ADDON_ENV] ||
    (await ensureElectronAddon(
      { root: context.packager.projectDir, electronVersion, platform: platform as NodeJS.Platform, arch },
      (line) => console.log(`  • ${line.trim()}`),
    ))
  const destination = join(context.packager.getResourcesDir(context.appOutDir), ...PACKED_ADDON)
  mkdirSync(dirname(destination), { recursive: true })
  copyFileSync(addon, destination)
  console.log(`  • SQLite addon for Electron ${electronVersion} ${platform}-${arch}: ${destination}`)
}
