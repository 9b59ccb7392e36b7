import { Console } from 'node:console';
import { PassThrough } from 'node:stream';
import { ConsoleLogger, Logger } from '@nestjs/common';
import pino from 'pino';
import { Cache } from '../../lib/cache/cache';
import { getLogger, logEvent, setLogger, type LogFields } from '../../lib/core/logger';
import { recordingLogger } from '../support/logger';

/** Two cached functions of one name on one cache: the key-collision warning, through the real site. */
function collide(cache: Cache): void {
  cache.wrap(async () => 1, { name: 'ask' });
  cache.wrap(async () => 2, { name: 'ask' });
}

describe('logger', () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  });

  afterEach(() => {
    setLogger(undefined);
    warn.mockRestore();
  });

  it('emits the process warning a message names when no logger is set, as before loggers', () => {
    logEvent(undefined, 'warn', { event: 'cachet.key-collision' }, 'shared keys', {
      type: 'CachetKeyCollisionWarning',
    });
    expect(warn).toHaveBeenCalledWith('shared keys', 'CachetKeyCollisionWarning');
  });

  it('drops a message without a process warning when no logger is set', () => {
    logEvent(undefined, 'warn', { event: 'cachet.breaker-opened' }, 'breaker opened');
    expect(warn).not.toHaveBeenCalled();
  });

  it('sends to the logger setLogger set instead of the process warning, also for a cache made before', () => {
    const cache = new Cache();
    const logger = recordingLogger();
    setLogger(logger);
    expect(getLogger()).toBe(logger);
    collide(cache);
    expect(warn).not.toHaveBeenCalled();
    expect(logger.lines).toEqual([
      [
        'warn',
        { event: 'cachet.key-collision', namespace: 'default', method: 'default:ask', store: 'memory' },
        expect.stringContaining('Two different cached methods are both named default:ask'),
      ],
    ]);
  });

  it("prefers an object's own logger to the global one", () => {
    const global = recordingLogger();
    const own = recordingLogger();
    setLogger(global);
    collide(new Cache({ logger: own }));
    expect(own.lines.map(([level, fields]) => [level, fields.event])).toEqual([['warn', 'cachet.key-collision']]);
    expect(global.lines).toEqual([]);
  });

  it('goes back to process warnings after setLogger(undefined)', () => {
    setLogger(recordingLogger());
    setLogger(undefined);
    collide(new Cache());
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('default:ask'), 'CachetKeyCollisionWarning');
  });

  it('skips the levels a logger does not have, and calls the others on the logger (this bound)', () => {
    const seen: string[] = [];
    const logger = {
      prefix: 'bound',
      warn(this: { prefix: string }, _fields: LogFields, message: string) {
        seen.push(`${this.prefix}: ${message}`);
      },
      error(this: { prefix: string }, _fields: LogFields, message: string) {
        seen.push(`${this.prefix}: ${message}`);
      },
    };
    logEvent(logger, 'info', { event: 'cachet.breaker-closed' }, 'closed');
    logEvent(logger, 'warn', { event: 'cachet.breaker-opened' }, 'opened');
    expect(seen).toEqual(['bound: opened']);
  });

  it('turns a logger that throws into a process warning, and the operation goes on', async () => {
    const cache = new Cache({
      logger: {
        warn: () => {
          throw new Error('logger down');
        },
        error: () => {},
      },
    });
    expect(() => collide(cache)).not.toThrow();
    expect(warn).toHaveBeenCalledWith(
      "The cachet logger threw on 'cachet.key-collision': Error: logger down",
      'CachetLoggerWarning',
    );
    await expect(cache.wrap(async () => 3, { name: 'other' })()).resolves.toBe(3);
  });

  it.each([
    [null, '`null` (null)'],
    [{ warn: () => {} }, '`{}` (object)'],
    [{ warn: () => {}, error: () => {}, info: 'loud' }, '`{"info":"loud"}` (object)'],
  ])('rejects %p as a logger, saying what it expected', (logger, shown) => {
    const expected = `Expected \`logger\` to be a logger with warn(fields, message) and error(fields, message) methods, got ${shown}`;
    expect(() => setLogger(logger as never)).toThrow(new TypeError(expected));
    expect(() => new Cache({ logger: logger as never })).toThrow(new TypeError(expected));
  });

  it('works with console as it is: the fields, then the message', () => {
    const out = new PassThrough();
    const text: string[] = [];
    out.on('data', (chunk: Buffer) => text.push(chunk.toString()));
    setLogger(new Console({ stdout: out, stderr: out, colorMode: false }));
    collide(new Cache());
    const line = text.join('');
    expect(line).toContain("event: 'cachet.key-collision'");
    expect(line).toContain("method: 'default:ask'");
    expect(line).toContain('Two different cached methods are both named default:ask');
  });

  it('works with a real pino logger: one JSON line with the fields, the message, and the error serialised', () => {
    const lines: Record<string, unknown>[] = [];
    setLogger(pino({ base: undefined }, { write: (line: string) => void lines.push(JSON.parse(line)) }));
    collide(new Cache());
    logEvent(undefined, 'error', { event: 'cachet.listener-threw', err: new Error('bug') }, 'a listener threw');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        event: 'cachet.key-collision',
        namespace: 'default',
        method: 'default:ask',
        store: 'memory',
        msg: expect.stringContaining('both named default:ask'),
      }),
      expect.objectContaining({
        level: 50,
        event: 'cachet.listener-threw',
        msg: 'a listener threw',
        err: expect.objectContaining({ type: 'Error', message: 'bug', stack: expect.stringContaining('Error: bug') }),
      }),
    ]);
  });

  it("works with NestJS's Logger: the fields printed, the message beside them", () => {
    const printed: string[] = [];
    const capture = (chunk: string | Uint8Array): boolean => (printed.push(String(chunk)), true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      Logger.overrideLogger(new ConsoleLogger({ colors: false }));
      setLogger(new Logger('cachet'));
      collide(new Cache());
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      Logger.overrideLogger(new ConsoleLogger());
    }
    const text = printed.join('');
    expect(text).toContain('WARN');
    expect(text).toContain("event: 'cachet.key-collision'");
    expect(text).toContain('Two different cached methods are both named default:ask');
  });
});
