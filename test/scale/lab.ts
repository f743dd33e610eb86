/**
 * Where the peers of a scale run live: each in an OS process and a network
 * namespace of its own, with its own address, on a bridge — or, where
 * namespaces cannot be made, all on loopback (and the run says so).
 *
 * The namespaces nest in one "lab": a user and network namespace made with
 * `unshare --net --map-root-user` (root, or unprivileged user namespaces),
 * holding a bridge, `kbr0`. Each peer's process is started inside the lab
 * with `unshare --net` (a namespace of its own), and the lab gives it one
 * end of a veth pair, `eth0`, the other end on the bridge. Nothing is made
 * in the machine's own network namespace and nothing is named: the lab
 * ends with its holder process (a shell reading its stdin, so it ends when
 * this process does, killed or not), and a peer's namespace and veth pair
 * end with the peer's process. No leftover can break the next run.
 *
 * Addresses come from `3fff::/20`, the IPv6 prefix reserved for
 * documentation (RFC 9637): never routed, and not in libp2p's list of
 * private ranges (`@libp2p/utils`' `isPrivateIp`), so the peers run with
 * the public profile (`network: 'public'`) and kad-dht's default mapper
 * keeps their addresses. The ranges one would reach for first are on that
 * list and would be dropped: 10/8, 100.64/10, 172.16/12, 192.168/16, and
 * also the documentation and benchmarking ranges 192.0.2/24,
 * 198.18/15, 198.51.100/24, 203.0.113/24 and 2001:db8::/32.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'

/** How a peer reaches the others. */
export interface PeerPlace {
  /** The IP its node listens on. */
  readonly ip: string
  /** Its multiaddr prefix, `/ip6/<ip>` or `/ip4/<ip>`. */
  readonly prefix: string
  /** The TCP port it listens on (0: the system picks: loopback). */
  readonly port: number
  /** The interface to give `ip/64` and bring up inside its namespace, if it has one. */
  readonly configure?: { readonly iface: string, readonly cidr: string }
  /** The profile's network: `'public'` in namespaces, `'local'` on loopback. */
  readonly network: 'public' | 'local'
}

/** The peers' network: namespaces on a bridge, or loopback. */
export interface Lab {
  readonly kind: 'namespaces' | 'loopback'
  /** Why the run is on loopback (empty in namespaces). */
  readonly fallback: string
  /** Starts `node <execArgv> <script> <args>` for peer `index`, in its own namespace if the lab has them, with an IPC channel. */
  spawn (index: number, script: string, execArgv: readonly string[], args: readonly string[]): ChildProcess
  /** Gives the peer's process (started by {@link spawn}, running) its link; says where it lives. */
  attach (index: number, pid: number): Promise<PeerPlace>
  /** Ends the lab (its peers' processes must be ended first). */
  close (): Promise<void>
}

/** The lab could not be made. */
export class LabError extends Error {
  override name = 'LabError'
}

/** The bridge every peer's link is on. */
const BRIDGE = 'kbr0'
/** The peers' /64, inside 3fff::/20 (RFC 9637). */
const SUBNET = '3fff:0:5ca1::'
/** Every peer listens on this port, each on its own address. */
const PORT = 4001
/** Longest wait for the lab's holder to set the bridge up (ms). */
const SETUP_BOUND_MS = 10_000

/** The IPv6 address of peer `index` (0-based) in a lab. */
export function labAddress (index: number): string {
  return `${SUBNET}${(index + 1).toString(16)}`
}

/**
 * A lab of network namespaces, or (`loopback: true`, or when namespaces
 * cannot be made) loopback; `fallback` says why.
 */
export async function openLab (options: { readonly loopback?: boolean } = {}): Promise<Lab> {
  if (options.loopback === true) return loopbackLab('asked for (--loopback)')
  try {
    return await NamespaceLab.open()
  } catch (error) {
    return loopbackLab(`network namespaces unavailable: ${error instanceof Error ? error.message : String(error)}`)
  }
}

function loopbackLab (why: string): Lab {
  return {
    kind: 'loopback',
    fallback: why,
    spawn: (_index, script, execArgv, args) => spawn(process.execPath, [...execArgv, script, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    attach: async () => ({ ip: '127.0.0.1', prefix: '/ip4/127.0.0.1', port: 0, network: 'local' }),
    close: async () => {}
  }
}

/** Namespaces under one holder (see the module's description). */
class NamespaceLab implements Lab {
  readonly kind = 'namespaces'
  readonly fallback = ''
  readonly #holder: ChildProcess
  readonly #pid: number
  /** Links made so far: a restarted peer's new link gets a new name (the old one may not be gone yet). */
  #links = 0

  private constructor (holder: ChildProcess, pid: number) {
    this.#holder = holder
    this.#pid = pid
  }

  static async open (): Promise<NamespaceLab> {
    const setup = `set -e; ip link set lo up; ip link add ${BRIDGE} type bridge; ip link set ${BRIDGE} up; echo ready; read _`
    const holder = spawn('unshare', ['--net', '--map-root-user', '--', 'sh', '-c', setup], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    holder.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { resolve(false) }, SETUP_BOUND_MS)
      holder.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('ready')) { clearTimeout(timer); resolve(true) } })
      holder.once('error', (error) => { output += error.message; clearTimeout(timer); resolve(false) })
      holder.once('exit', () => { clearTimeout(timer); resolve(false) })
    })
    if (!ready || holder.pid === undefined) {
      holder.kill('SIGKILL')
      throw new LabError(`unshare --net --map-root-user and a bridge: ${output.trim() || 'no answer'}`)
    }
    const lab = new NamespaceLab(holder, holder.pid)
    // A peer's own namespace inside the lab, and a veth pair into it: checked once, so that a failure falls back.
    const probe = spawn('nsenter', [...lab.#enter(), 'unshare', '--net', '--', 'sh', '-c', 'echo up; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const up = await new Promise<boolean>((resolve) => {
        probe.stdout.once('data', () => { resolve(true) })
        probe.once('error', () => { resolve(false) })
        probe.once('exit', () => { resolve(false) })
      })
      if (!up || probe.pid === undefined) throw new LabError('nsenter into the lab, then unshare --net, failed')
      await lab.#link(probe.pid)
    } catch (error) {
      await lab.close()
      throw error
    } finally {
      probe.kill('SIGKILL')
    }
    return lab
  }

  spawn (_index: number, script: string, execArgv: readonly string[], args: readonly string[]): ChildProcess {
    // nsenter and unshare exec (no fork): the child's pid is the node process's, in its own namespace.
    return spawn('nsenter', [...this.#enter(), 'unshare', '--net', '--', process.execPath, ...execArgv, script, ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
  }

  async attach (index: number, pid: number): Promise<PeerPlace> {
    await this.#link(pid)
    const ip = labAddress(index)
    return { ip, prefix: `/ip6/${ip}`, port: PORT, configure: { iface: 'eth0', cidr: `${ip}/64` }, network: 'public' }
  }

  async close (): Promise<void> {
    if (this.#holder.exitCode !== null || this.#holder.signalCode !== null) return
    const exited = new Promise((resolve) => this.#holder.once('exit', resolve))
    this.#holder.stdin?.end()
    const guard = setTimeout(() => this.#holder.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(guard)
  }

  /** nsenter's arguments into the lab's user and network namespaces. */
  #enter (): string[] {
    return ['-t', String(this.#pid), '-U', '-n', '--']
  }

  /** A veth pair: `eth0` in the namespace of process `pid`, the other end on the bridge. */
  async #link (pid: number): Promise<void> {
    const name = `kv${this.#links++}`
    const script = `set -e; ip link add ${name} type veth peer name eth0 netns ${pid}; ip link set ${name} master ${BRIDGE} up`
    await run('nsenter', [...this.#enter(), 'sh', '-c', script])
  }
}

/** Runs a command; rejects with {@link LabError} and its output if it fails. */
async function run (command: string, args: readonly string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (error) => { output += error.message; resolve(-1) })
    child.once('close', resolve)
  })
  if (code !== 0) throw new LabError(`${command} ${args.join(' ')}: ${output.trim() || `exit ${String(code)}`}`)
}
