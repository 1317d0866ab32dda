/**
 * The bridge between the sandboxed renderer and the main process: two named
 * functions, each bound to one IPC channel. Nothing generic — no raw
 * ipcRenderer, no channel names chosen by the page, no process.env.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { BRIDGE_KEY, IPC, type DesktopBridge, type DesktopConnection } from '../shared/bridge'

const api: DesktopBridge = {
  getConnection: () => ipcRenderer.invoke(IPC.getConnection) as Promise<DesktopConnection>,
  notify: (title, body) => ipcRenderer.send(IPC.notify, String(title), String(body)),
}

contextBridge.exposeInMainWorld(BRIDGE_KEY, api)
