/** Component loggers: formatting is lazy (pass a function) so a disabled logger costs nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogMsg = string | (() => string);

export interface Logger {
  debug(msg: LogMsg): void;
  info(msg: LogMsg): void;
  warn(msg: LogMsg): void;
  error(msg: LogMsg): void;
  forComponent(name: string): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class NullLogger implements Logger {
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(): void {}
  forComponent(): Logger {
    return this;
  }
}

/** Writes `[component] level: message` lines to a sink (stderr by default). */
export class TextLogger implements Logger {
  constructor(
    private readonly level: LogLevel,
    private readonly sink: (line: string) => void,
    private readonly component = 'torrentkit',
  ) {}
  private log(l: LogLevel, msg: LogMsg): void {
    if (ORDER[l] < ORDER[this.level]) return;
    this.sink(`[${this.component}] ${l}: ${typeof msg === 'function' ? msg() : msg}`);
  }
  debug(m: LogMsg): void { this.log('debug', m); }
  info(m: LogMsg): void { this.log('info', m); }
  warn(m: LogMsg): void { this.log('warn', m); }
  error(m: LogMsg): void { this.log('error', m); }
  forComponent(name: string): Logger {
    return new TextLogger(this.level, this.sink, name);
  }
}
