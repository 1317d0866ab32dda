#!/usr/bin/env node
// Renders assets/icon.svg to assets/icon.png (512×512, transparent corners) with
// headless Chromium, so the PNG electron-builder needs never drifts from the SVG.
// Usage: node scripts/render-icon.mjs [size]   (CHROMIUM_PATH overrides /usr/bin/chromium)
import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { chromium } from 'playwright-core'

const root = resolve(import.meta.dirname, '..')
const size = Number(process.argv[2] ?? 512)
const svg = await readFile(resolve(root, 'assets/icon.svg'), 'utf8')

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
})
try {
  const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 })
  const sized = svg.replace(/width="\d+" height="\d+"/, `width="${size}" height="${size}"`)
  await page.setContent(
    `<!doctype html><style>html,body{margin:0;background:transparent}svg{display:block}</style>${sized}`,
  )
  const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } })
  await writeFile(resolve(root, 'assets/icon.png'), png)
  console.log(`assets/icon.png: ${size}x${size}, ${png.length} bytes`)
} finally {
  await browser.close()
}
