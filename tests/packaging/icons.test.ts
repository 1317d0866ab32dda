/**
 * The icons electron-builder packs are made from assets/icon.svg by
 * scripts/icons.ts (`npm run icons`) and are what each platform reads: a
 * Linux set named by size, a Windows .ico and a macOS .icns holding the sizes
 * those systems pick from. The containers are read here byte by byte, so a
 * broken or stale file fails without the platform's own tools.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ICO_SIZES, LINUX_SIZES, OUTPUTS, ROOT, staleIcons, strayIcons } from '../../scripts/icons'

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const read = (file: string) => readFileSync(join(ROOT, file))

async function pngSize(data: Buffer): Promise<{ width: number; height: number; alpha: boolean }> {
  expect(data.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature').toBe(true)
  const meta = await sharp(data).metadata()
  return { width: meta.width ?? 0, height: meta.height ?? 0, alpha: meta.hasAlpha === true }
}

/** ICONDIR + ICONDIRENTRY records: https://learn.microsoft.com/en-us/previous-versions/ms997538(v=msdn.10) */
function icoEntries(data: Buffer): { size: number; image: Buffer }[] {
  expect(data.readUInt16LE(0), 'reserved').toBe(0)
  expect(data.readUInt16LE(2), 'type 1 = icon').toBe(1)
  return Array.from({ length: data.readUInt16LE(4) }, (_, index) => {
    const entry = 6 + index * 16
    const width = data.readUInt8(entry) || 256
    expect(data.readUInt8(entry + 1) || 256, 'square').toBe(width)
    const length = data.readUInt32LE(entry + 8)
    const offset = data.readUInt32LE(entry + 12)
    expect(offset + length).toBeLessThanOrEqual(data.length)
    return { size: width, image: data.subarray(offset, offset + length) }
  })
}

/** 'icns', total length, then (type, length including its 8-byte header, data) records. */
function icnsEntries(data: Buffer): Map<string, Buffer> {
  expect(data.toString('latin1', 0, 4)).toBe('icns')
  expect(data.readUInt32BE(4), 'declared length').toBe(data.length)
  const entries = new Map<string, Buffer>()
  for (let offset = 8; offset < data.length;) {
    const length = data.readUInt32BE(offset + 4)
    expect(length, 'record length').toBeGreaterThan(8)
    entries.set(data.toString('latin1', offset, offset + 4), data.subarray(offset + 8, offset + length))
    offset += length
  }
  return entries
}

describe('icons (made from assets/icon.svg by npm run icons)', () => {
  it('are all up to date with the SVG, and nothing else sits in assets/icons', async () => {
    expect(await staleIcons(), 'stale: run npm run icons and commit the result').toEqual([])
    expect(strayIcons()).toEqual([])
  })

  it('notices a stale or missing icon', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'sm-icons-copy-'))
    try {
      for (const file of OUTPUTS) cpSync(join(ROOT, file), join(copy, file))
      writeFileSync(join(copy, 'assets/icons/32x32.png'), read('assets/icons/16x16.png'))
      rmSync(join(copy, 'assets/icon.icns'))
      writeFileSync(join(copy, 'assets/icons/20x20.png'), read('assets/icons/16x16.png'))
      expect(await staleIcons(copy)).toEqual(['assets/icons/32x32.png', 'assets/icon.icns'])
      expect(strayIcons(copy)).toEqual(['assets/icons/20x20.png'])
    } finally {
      rmSync(copy, { recursive: true, force: true })
    }
  })

  it('gives Linux one transparent-cornered PNG per size, named by its size', async () => {
    for (const size of LINUX_SIZES) {
      const file = `assets/icons/${size}x${size}.png`
      expect(await pngSize(read(file)), file).toEqual({ width: size, height: size, alpha: true })
      const { data } = await sharp(read(file)).ensureAlpha().raw().toBuffer({ resolveWithObject: true })
      expect(data[3], `${file}: corner alpha`).toBe(0)
      const centre = (Math.floor(size / 2) * size + Math.floor(size / 2)) * 4 + 3
      expect(data[centre], `${file}: centre alpha`).toBe(255)
    }
    expect(await pngSize(read('assets/icon.png'))).toEqual({ width: 1024, height: 1024, alpha: true })
  })

  it('gives Windows an .ico with every size from 16 to 256', async () => {
    const entries = icoEntries(read('assets/icon.ico'))
    expect(entries.map((entry) => entry.size)).toEqual([...ICO_SIZES])
    for (const { size, image } of entries) {
      if (image.subarray(0, 8).equals(PNG_SIGNATURE)) {
        expect(await pngSize(image)).toMatchObject({ width: size, height: size })
      } else {
        // A BMP entry: BITMAPINFOHEADER, height counted twice (colour + mask), 32 bits a pixel.
        expect(image.readUInt32LE(0)).toBe(40)
        expect([image.readInt32LE(4), image.readInt32LE(8), image.readUInt16LE(14)]).toEqual([size, size * 2, 32])
      }
    }
  })

  it('gives macOS an .icns with the retina and 1024 px images', async () => {
    const entries = icnsEntries(read('assets/icon.icns'))
    // PNG-bearing types and the pixel size each holds (Apple's ic07…ic14).
    const png: Record<string, number> = {
      ic07: 128,
      ic08: 256,
      ic09: 512,
      ic10: 1024,
      ic11: 32,
      ic12: 64,
      ic13: 256,
      ic14: 512,
    }
    expect([...entries.keys()]).toEqual(expect.arrayContaining(Object.keys(png)))
    for (const [type, size] of Object.entries(png)) {
      expect(await pngSize(entries.get(type)!), type).toMatchObject({ width: size, height: size })
    }
    // 16 and 32 px for old Finder views: RLE images with their 8-bit masks.
    expect([...entries.keys()]).toEqual(expect.arrayContaining(['is32', 's8mk', 'il32', 'l8mk']))
    expect(entries.get('s8mk')!.length).toBe(16 * 16)
    expect(entries.get('l8mk')!.length).toBe(32 * 32)
  })

  it('are the ones electron-builder.yml names for each platform', () => {
    const config = parse(read('electron-builder.yml').toString('utf8')) as Record<string, { icon?: string }>
    expect(config.linux?.icon).toBe('assets/icons')
    expect(config.win?.icon).toBe('assets/icon.ico')
    expect(config.mac?.icon).toBe('assets/icon.icns')
  })

  it('refuses an unknown argument without writing anything', () => {
    const before = OUTPUTS.map((file) => read(file))
    let status = 0
    let stderr = ''
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/icons.ts', '--bogus'], { cwd: ROOT, stdio: 'pipe' })
    } catch (error) {
      const failed = error as { status: number; stderr: Buffer }
      status = failed.status
      stderr = failed.stderr.toString()
    }
    expect(status).toBe(2)
    expect(stderr).toContain('unknown argument --bogus')
    expect(OUTPUTS.map((file) => read(file))).toEqual(before)
  })
})
