/**
 * The page's chat view, in plain DOM: the messages (the latest page, more
 * on "Earlier messages"), the compose box, who is online and who is
 * typing. Text goes in with `textContent` only: a message is never HTML.
 * @module
 */
import { PAGE_SIZE, type MessageRow, type Room, type RoomPeer } from '../room.ts'

/** After this long with no keystroke (ms), a started message no longer counts as typing. */
const TYPING_IDLE_MS = 4000

/** An element of the page that must be there. */
function element<E extends HTMLElement> (selector: string): E {
  const found = document.querySelector<E>(selector)
  if (found === null) throw new Error(`the page has no ${selector}`)
  return found
}

function time (at: number): string {
  const date = new Date(at)
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`
}

/** Shows `room` in the page's `#chat`; returns a function that stops it. */
export function showChat (room: Room): () => void {
  const list = element<HTMLOListElement>('#messages')
  const older = element<HTMLButtonElement>('#older')
  const compose = element<HTMLFormElement>('#compose')
  const input = element<HTMLInputElement>('#text')
  element('#title').textContent = `${room.name} · ${room.nick}`
  element('#chat').hidden = false

  let shown = PAGE_SIZE
  let stop = room.watchLatest(shown, render)
  function render (rows: readonly MessageRow[]): void {
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4
    list.replaceChildren(...rows.map((row) => {
      const item = document.createElement('li')
      item.dataset.id = row.id
      const when = document.createElement('time')
      when.dateTime = new Date(row.at).toISOString()
      when.textContent = time(row.at)
      const nick = document.createElement('b')
      nick.className = 'nick'
      nick.textContent = row.nick
      const text = document.createElement('span')
      text.className = 'text'
      text.textContent = row.text
      item.append(when, nick, ': ', text)
      return item
    }))
    older.disabled = rows.length < shown
    if (atBottom) list.scrollTop = list.scrollHeight
  }
  older.addEventListener('click', () => {
    shown += PAGE_SIZE
    stop()
    stop = room.watchLatest(shown, render)
  })

  let typing = false
  let idle: ReturnType<typeof setTimeout> | undefined
  const setTyping = (active: boolean): void => {
    clearTimeout(idle)
    if (active) idle = setTimeout(() => { setTyping(false) }, TYPING_IDLE_MS)
    if (active === typing) return
    typing = active
    room.setTyping(active)
  }
  input.addEventListener('input', () => { setTyping(input.value !== '') })
  compose.addEventListener('submit', (event) => {
    event.preventDefault()
    const text = input.value.trim()
    input.value = ''
    setTyping(false)
    if (text === '') return
    room.send(text).catch((error: unknown) => { showStatus(`not sent: ${String(error)}`) })
  })
  const stopPresence = room.watchPeers((peers) => { showPresence(room.nick, peers) })
  input.focus()
  return () => {
    clearTimeout(idle)
    stopPresence()
    stop()
  }
}

/** Who is online (this user first, then the others by nick) in `#who`, and who is typing in `#typing`. */
function showPresence (self: string, peers: readonly RoomPeer[]): void {
  const others = [...peers].sort((a, b) => a.state.nick.localeCompare(b.state.nick))
  const you = document.createElement('li')
  you.textContent = `${self} (you)`
  element('#who').replaceChildren(you, ...others.map(({ peer, state }) => {
    const item = document.createElement('li')
    item.dataset.peer = peer
    item.textContent = state.nick
    return item
  }))
  const typing = others.filter(({ state }) => state.typing).map(({ state }) => state.nick)
  element('#typing').textContent = typing.length === 0 ? '' : `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…`
}

/** A line of status under the chat. */
export function showStatus (text: string): void {
  element('#status').textContent = text
}
