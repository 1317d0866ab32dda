/**
 * `npm run icons`: every icon the app ships, made from one source,
 * assets/icon.svg. Run it after changing the SVG and commit what it writes;
 * tests/packaging/icons.test.ts fails while a committed icon is stale.
 *
 *   assets/icons/NxN.png     Linux set (electron-builder's linux.icon folder: the
 *                            file names carry the size), 16 … 1024
 *   assets/icon.png          1024×1024, the fallback electron-builder wants
 *   assets/icon.ico          Windows (NSIS installer and the .exe), 16 … 256
 *   assets/icon.icns         macOS (app bundle and dmg), 16 … 1024
 *   src/renderer/public/     favicon.svg (the source itself) and icon-256.png, the
 *                            browser tab's icon and the Electron window's on Linux
 *
 * sharp renders the SVG at each size's own density, so small sizes are drawn,
 * not shrunk, and 1024 is not an upscaled 512. icon-gen packs those PNGs into
 * .ico and .icns.
 *
 * Usage: npm run icons [-- --check]   (--check: compare instead of writing; exit 1 if stale)
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import icongen from 'icon-gen'
import sharp from 'sharp'

export const ROOT = resolve(import.meta.dirname, '..')
export const SOURCE = 'assets/icon.svg'
export const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const
export const ICNS_SIZES = [16, 32, 64, 128, 256, 512, 1024] as const

/** Every file this script writes, relative to the repository root. */
export const OUTPUTS: readonly string[] = [
  ...LINUX_SIZES.map((size) => `assets/icons/${size}x${size}.png`),
  'assets/icon.png',
  'assets/icon.ico',
  'assets/icon.icns',
  'src/renderer/public/favicon.svg',
  'src/renderer/public/icon-256.png',
]

/** The SVG's own width, the size it renders at with sharp's default 72 dpi. */
function naturalSize(svg: Buffer): number {
  const width = /<svg[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(svg.toString('utf8'))?.[1]
  if (width === undefined) throw new Error(`${SOURCE}: the <svg> element needs a width attribute in pixels`)
  return Number(width)
}

async function renderPng(svg: Buffer, width: number, size: number, file: string): Promise<void> {
  await sharp(svg, { density: (72 * size) / width })
    .resize(size, size, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png({ compressionLevel: 9 })
    .toFile(file)
}

/** Writes every output under `root` (the repository, or a scratch folder for --check). */
export async function generateIcons(root: string, log: (line: string) => void = () => {}): Promise<void> {
  const svg = readFileSync(join(ROOT, SOURCE))
  const scratch = mkdtempSync(join(tmpdir(), 'sm-icons-'))
  try {
    // icon-gen reads a folder of <size>.png when given one instead of an SVG.
    const sizes = [...new Set<number>([...LINUX_SIZES, ...ICO_SIZES, ...ICNS_SIZES])]
    const width = naturalSize(svg)
    for (const [index, size] of sizes.entries()) {
      await renderPng(svg, width, size, join(scratch, `${size}.png`))
      log(`[${index + 1}/${sizes.length + 1}] rendered ${size}×${size}`)
    }
    const out = (file: string) => {
      mkdirSync(join(root, file, '..'), { recursive: true })
      return join(root, file)
    }
    for (const size of LINUX_SIZES) copyFileSync(join(scratch, `${size}.png`), out(`assets/icons/${size}x${size}.png`))
    copyFileSync(join(scratch, '1024.png'), out('assets/icon.png'))
    copyFileSync(join(scratch, '256.png'), out('src/renderer/public/icon-256.png'))
    copyFileSync(join(ROOT, SOURCE), out('src/renderer/public/favicon.svg'))
    await icongen(scratch, join(root, 'assets'), {
      report: false,
      ico: { name: 'icon', sizes: [...ICO_SIZES] },
      icns: { name: 'icon', sizes: [...ICNS_SIZES] },
    })
    log(`[${sizes.length + 1}/${sizes.length + 1}] packed assets/icon.ico and assets/icon.icns`)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** The outputs under `root` that differ from a fresh generation (missing ones included). */
export async function staleIcons(root: string = ROOT): Promise<string[]> {
  const fresh = mkdtempSync(join(tmpdir(), 'sm-icons-check-'))
  try {
    await generateIcons(fresh)
    const read = (root: string, file: string) => {
      try {
        return readFileSync(join(root, file))
      } catch {
        return null
      }
    }
    return OUTPUTS.filter((file) => {
      const committed = read(root, file)
      return committed === null || !committed.equals(read(fresh, file)!)
    })
  } finally {
    rmSync(fresh, { recursive: true, force: true })
  }
}

/** Files in assets/icons/ that this script does not make (an old size left behind, say). */
export function strayIcons(root: string = ROOT): string[] {
  const made = new Set(OUTPUTS)
  return readdirSync(join(root, 'assets/icons'))
    .map((name) => `assets/icons/${name}`)
    .filter((file) => !made.has(file))
}

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((arg) => arg !== '--check')
  if (unknown.length > 0) {
    console.error(`icons: unknown argument ${unknown.join(' ')} (usage: npm run icons [-- --check])`)
    return 2
  }
  if (args.includes('--check')) {
    const stale = [...(await staleIcons()), ...strayIcons()]
    if (stale.length === 0) {
      console.log(`icons: all ${OUTPUTS.length} files match ${SOURCE}`)
      return 0
    }
    console.error(`icons: out of date with ${SOURCE} (run npm run icons):\n  ${stale.join('\n  ')}`)
    return 1
  }
  await generateIcons(ROOT, (line) => console.log(`icons: ${line}`))
  console.log(
    `icons: wrote ${OUTPUTS.length} files from ${SOURCE}:\n  ${OUTPUTS.map((f) => relative('.', join(ROOT, f))).join('\n  ')}`,
  )
  return 0
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`icons: ${error instanceof Error ? error.message : String(error)}`)
      process.exit(1)
    },
  )
}
