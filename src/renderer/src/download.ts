/**
 * Hands a file the page holds to the browser as a download (the tasks
 * export): the API wants a bearer token, which a plain link cannot send, so
 * the page fetches the file and saves it from memory.
 */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.rel = 'noopener'
  link.style.display = 'none'
  document.body.append(link)
  link.click()
  link.remove()
  // The browser has read it by then; the page need not hold it any longer.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
