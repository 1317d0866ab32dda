import { app, Menu, type MenuItemConstructorOptions } from 'electron'

/** A minimal application menu: reload, devtools, zoom, about, quit (and Edit, for copy/paste on macOS). */
export function installAppMenu(): void {
  app.setAboutPanelOptions({
    applicationName: 'Swarm Monitor',
    applicationVersion: app.getVersion(),
    copyright: 'MIT License',
  })

  const isMac = process.platform === 'darwin'
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' } satisfies MenuItemConstructorOptions] : []),
    { label: 'File', submenu: [isMac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'forceReload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'help', submenu: [{ role: 'about' }] },
  ]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}
