/**
 * One connection interface for every transport (TCP now; uTP and MSE-wrapped connections later).
 * peer/ sees only this: bytes in through handlers, bytes out through write().
 */
export type TransportKind = 'tcp' | 'utp' | 'memory';

export interface ConnectionHandlers {
  onData(chunk: Uint8Array): void;
  /** The write buffer emptied after write() returned false. */
  onDrain(): void;
  /** Called exactly once; `err` is undefined for an orderly close. */
  onClose(err?: Error): void;
}

export interface Connection {
  readonly kind: TransportKind;
  readonly outgoing: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** Replaces the handlers; data that arrived before handlers were set is delivered on set. */
  setHandlers(h: ConnectionHandlers): void;
  /** Queue bytes; false means the caller should wait for onDrain before writing much more. */
  write(data: Uint8Array): boolean;
  /** Bytes queued but not yet handed to the OS. */
  readonly writableLength: number;
  /** Stop / restart delivering onData (receive backpressure). */
  pause(): void;
  resume(): void;
  /** Close; pending writes are flushed when `graceful`, dropped otherwise. */
  close(graceful?: boolean): void;
  readonly closed: boolean;
}

export interface DialOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: TransportKind;
  dial(host: string, port: number, opts?: DialOptions): Promise<Connection>;
  listen(host: string, port: number, onConnection: (c: Connection) => void): Promise<Listener>;
}
