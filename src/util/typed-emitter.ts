import { EventEmitter } from 'node:events';

/** EventEmitter with a typed event map: `class X extends TypedEmitter<{ done: [n: number] }>`. */
export type EventMap = { [K: string]: unknown[] };

export class TypedEmitter<E extends EventMap> {
  private readonly ee = new EventEmitter();
  constructor() {
    this.ee.setMaxListeners(0);
  }
  on<K extends keyof E & string>(ev: K, fn: (...args: E[K]) => void): this {
    this.ee.on(ev, fn as (...a: unknown[]) => void);
    return this;
  }
  once<K extends keyof E & string>(ev: K, fn: (...args: E[K]) => void): this {
    this.ee.once(ev, fn as (...a: unknown[]) => void);
    return this;
  }
  off<K extends keyof E & string>(ev: K, fn: (...args: E[K]) => void): this {
    this.ee.off(ev, fn as (...a: unknown[]) => void);
    return this;
  }
  protected emit<K extends keyof E & string>(ev: K, ...args: E[K]): boolean {
    return this.ee.emit(ev, ...args);
  }
  listenerCount<K extends keyof E & string>(ev: K): number {
    return this.ee.listenerCount(ev);
  }
  removeAllListeners(): void {
    this.ee.removeAllListeners();
  }
}
