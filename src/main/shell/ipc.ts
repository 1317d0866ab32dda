/**
 * The only module that touches `ipcMain`. Every handler first checks that the
 * message comes from a frame showing the core's own origin, then validates its
 * arguments: IPC arguments are whatever the renderer sent, not what the types say.
 */
import { ipcMain, Notification, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron'
import { IPC, type DesktopConnection } from '../../shared/bridge'
import { isTrustedOrigin, parseNotificationRequest } from './policy'

export interface IpcContext {
  /** The core's base URL: the one origin allowed to call. */
  url: string
  /** The desktop user owns this machine, so the window gets the operator token. */
  operatorToken: string
}

/** Registers the handlers; returns a function that removes them. */
export function registerIpc(context: IpcContext): () => void {
  ipcMain.handle(IPC.getConnection, (event, ...args: unknown[]): DesktopConnection => {
    assertTrustedSender(event, context.url, IPC.getConnection)
    if (args.length !== 0) throw new Error(`${IPC.getConnection} takes no arguments`)
    return { url: context.url, token: context.operatorToken }
  })

  ipcMain.on(IPC.notify, (event, ...args: unknown[]) => {
    if (!isTrustedSenderEvent(event, context.url)) return
    const request = parseNotificationRequest(args)
    if (!request || !Notification.isSupported()) return
    new Notification({ title: request.title, body: request.body }).show()
  })

  return () => {
    ipcMain.removeHandler(IPC.getConnection)
    ipcMain.removeAllListeners(IPC.notify)
  }
}

function isTrustedSenderEvent(event: IpcMainEvent | IpcMainInvokeEvent, coreUrl: string): boolean {
  // senderFrame is null once the frame has navigated away or been destroyed.
  return isTrustedOrigin(event.senderFrame?.url, coreUrl)
}

function assertTrustedSender(event: IpcMainInvokeEvent, coreUrl: string, channel: string): void {
  if (!isTrustedSenderEvent(event, coreUrl)) {
    throw new Error(`${channel}: refused, the sender is not the Swarm Monitor UI`)
  }
}
