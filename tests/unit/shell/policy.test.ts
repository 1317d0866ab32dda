import { describe, expect, it } from 'vitest'
import {
  isPermissionAllowed,
  isSafeExternalUrl,
  isTrustedOrigin,
  NOTIFICATION_BODY_MAX,
  NOTIFICATION_TITLE_MAX,
  originOf,
  parseNotificationRequest,
  secureWebPreferences,
} from '../../../src/main/shell/policy'

const CORE = 'http://127.0.0.1:7420'

describe('secureWebPreferences', () => {
  it('isolates, sandboxes and keeps Node out of the renderer', () => {
    const prefs = secureWebPreferences('/app/out/preload/index.js')
    expect(prefs).toMatchObject({
      preload: '/app/out/preload/index.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
    })
  })
})

describe('originOf', () => {
  it('normalises http(s) origins', () => {
    expect(originOf('https://example.com:443/a?b#c')).toBe('https://example.com')
    expect(originOf('http://127.0.0.1:7420/#token=x')).toBe(CORE)
  })
  it('gives null for opaque or unparsable URLs', () => {
    for (const url of [
      'file:///etc/passwd',
      'data:text/html,hi',
      'javascript:alert(1)',
      'not a url',
      '',
      'about:blank',
    ]) {
      expect(originOf(url)).toBeNull()
    }
  })
})

describe('isTrustedOrigin', () => {
  it('accepts any path, query or fragment on the core origin', () => {
    expect(isTrustedOrigin(`${CORE}/`, CORE)).toBe(true)
    expect(isTrustedOrigin(`${CORE}/#token=abc`, CORE)).toBe(true)
    expect(isTrustedOrigin(`${CORE}/api/snapshot?x=1`, CORE)).toBe(true)
    expect(isTrustedOrigin('https://swarm.example:8443/x', 'https://swarm.example:8443')).toBe(true)
  })
  it('refuses another port, host or scheme', () => {
    expect(isTrustedOrigin('http://127.0.0.1:7421/', CORE)).toBe(false)
    expect(isTrustedOrigin('http://localhost:7420/', CORE)).toBe(false)
    expect(isTrustedOrigin('https://127.0.0.1:7420/', CORE)).toBe(false)
    expect(isTrustedOrigin('http://127.0.0.1:7420.evil.example/', CORE)).toBe(false)
    expect(isTrustedOrigin('http://127.0.0.1:7420@evil.example/', CORE)).toBe(false)
  })
  it('refuses missing and opaque URLs, even against an opaque core URL', () => {
    expect(isTrustedOrigin(null, CORE)).toBe(false)
    expect(isTrustedOrigin(undefined, CORE)).toBe(false)
    expect(isTrustedOrigin('', CORE)).toBe(false)
    expect(isTrustedOrigin('file:///index.html', 'file:///index.html')).toBe(false)
    expect(isTrustedOrigin('data:text/html,x', 'data:text/html,x')).toBe(false)
  })
})

describe('isSafeExternalUrl', () => {
  it('allows plain http and https links', () => {
    expect(isSafeExternalUrl('https://github.com/socketio/socket.io')).toBe(true)
    expect(isSafeExternalUrl('http://example.com/docs?page=2#top')).toBe(true)
  })
  it('refuses other schemes, credentials, garbage and huge URLs', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'smb://host/share',
      'vscode://file/etc/passwd',
      'ms-msdt:/id',
      'https://user:pass@example.com/',
      'https://user@example.com/',
      'not a url',
      '',
      `https://example.com/${'a'.repeat(3000)}`,
    ]) {
      expect(isSafeExternalUrl(url), url).toBe(false)
    }
  })
})

describe('isPermissionAllowed', () => {
  it('allows notifications from the core only', () => {
    expect(isPermissionAllowed('notifications', `${CORE}/`, CORE)).toBe(true)
    expect(isPermissionAllowed('notifications', 'https://evil.example/', CORE)).toBe(false)
    expect(isPermissionAllowed('notifications', null, CORE)).toBe(false)
  })
  it('refuses every other permission, even from the core', () => {
    for (const permission of ['media', 'geolocation', 'openExternal', 'clipboard-read', 'fileSystem', 'unknown']) {
      expect(isPermissionAllowed(permission, `${CORE}/`, CORE)).toBe(false)
    }
  })
})

describe('parseNotificationRequest', () => {
  it('accepts two strings, trimmed', () => {
    expect(parseNotificationRequest([' Agent lost ', ' worker-3 went silent '])).toEqual({
      title: 'Agent lost',
      body: 'worker-3 went silent',
    })
    expect(parseNotificationRequest(['Alert', ''])).toEqual({ title: 'Alert', body: '' })
  })
  it('refuses anything else', () => {
    const bad: unknown[][] = [
      [],
      ['only title'],
      ['a', 'b', 'c'],
      [1, 'b'],
      ['a', { toString: () => 'b' }],
      [null, null],
      ['   ', 'body'],
    ]
    for (const args of bad) expect(parseNotificationRequest(args)).toBeNull()
  })
  it('cuts over-long text instead of refusing it', () => {
    const request = parseNotificationRequest(['t'.repeat(1000), 'b'.repeat(10_000)])
    expect(request?.title).toHaveLength(NOTIFICATION_TITLE_MAX)
    expect(request?.body).toHaveLength(NOTIFICATION_BODY_MAX)
    expect(request?.body.endsWith('…')).toBe(true)
  })
})
