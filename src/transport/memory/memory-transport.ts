/** In-process connection pairs, for tests: what one side writes the other receives, asynchronously. */
import type { Connection, ConnectionHandlers } from '../types.js';

class MemoryConnection implements Connection {
  readonly kind = 'memory' as const;
  peer!: MemoryConnection;
  private handlers: ConnectionHandlers | undefined;
  private inbox: Uint8Array[] = [];
  private paused = false;
  private isClosed = false;
  private closeReported = false;
  private scheduled = false;
  constructor(
    readonly outgoing: boolean,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localPort: number,
  ) {}
  setHandlers(h: ConnectionHandlers): void {
    this.handlers = h;
    this.schedule();
  }
  write(data: Uint8Array): boolean {
    if (this.isClosed) return false;
    this.peer.deliver(data.slice());
    return true;
  }
  get writableLength(): number {
    return 0;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.schedule();
  }
  get closed(): boolean {
    return this.isClosed;
  }
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.schedule();
    this.peer.close();
  }
  private deliver(d: Uint8Array): void {
    if (this.isClosed) return;
    this.inbox.push(d);
    this.schedule();
  }
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }
  private flush(): void {
    const h = this.handlers;
    if (!h) return;
    while (!this.paused && this.inbox.length > 0) h.onData(this.inbox.shift()!);
    if (this.isClosed && !this.closeReported && this.inbox.length === 0) {
      this.closeReported = true;
      h.onClose();
    }
  }
}

/** Two connected ends: `a` (at aHost:aPort) is the dialer, `b` (at bHost:bPort) the acceptor. */
export function memoryPair(aPort = 50001, bPort = 50002, aHost = '127.0.0.1', bHost = '127.0.0.1'): [Connection, Connection] {
  const a = new MemoryConnection(true, bHost, bPort, aPort);
  const b = new MemoryConnection(false, aHost, aPort, bPort);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
