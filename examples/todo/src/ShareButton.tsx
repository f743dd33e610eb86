/**
 * Shares the list: its link (the page's URL, which holds the database
 * address) through the system's share sheet, the clipboard, or shown to copy.
 * @module
 */
import { useState, type JSX } from 'react'

/** A button that shares the page's URL. */
export function ShareButton (): JSX.Element {
  const [copied, setCopied] = useState(false)
  const share = async (): Promise<void> => {
    const url = location.href
    if (typeof navigator.share === 'function') {
      await navigator.share({ title: 'Todo list', url }).catch(() => {})
    } else if (navigator.clipboard !== undefined) {
      await navigator.clipboard.writeText(url)
      setCopied(true)
      setTimeout(() => { setCopied(false) }, 2000)
    } else {
      // Pages served over plain http to another device have no clipboard API.
      prompt('Copy this link to share the list:', url)
    }
  }
  return <button type='button' className='share' onClick={() => { share().catch(() => {}) }}>{copied ? 'Link copied' : 'Share link'}</button>
}
