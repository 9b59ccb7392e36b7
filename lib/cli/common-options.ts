import type { OptionSpec } from './command';

/** The options every command takes. */
export const COMMON_OPTIONS = {
  url: {
    type: 'string',
    value: 'URL',
    description: 'Redis URL, e.g. redis://:password@host:6379/0 (default: REDIS_URL, or REDIS_HOST/PORT/PASSWORD/DB)',
  },
  cluster: {
    type: 'boolean',
    description: 'Connect as a Redis Cluster client (default: detected from INFO cluster)',
  },
  prefix: {
    type: 'string',
    value: 'PREFIX',
    description: "The caches' key prefix (default: CACHET_PREFIX, or cachet)",
  },
  timeout: {
    type: 'string',
    value: 'DURATION',
    description: 'Longest wait for the connection and for each Redis operation (default: 5s)',
  },
  json: { type: 'boolean', description: 'Print one JSON document on stdout instead of tables' },
  help: { type: 'boolean', short: 'h', description: 'Show this help' },
} as const satisfies Record<string, OptionSpec>;

/** The `--help` lines of a set of options: `  --name VALUE  description`, aligned. */
export function describeOptions(options: Readonly<Record<string, OptionSpec>>): string {
  const heads = Object.entries(options).map(([name, spec]) => {
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    return `  ${short}--${name}${spec.value === undefined ? '' : ` ${spec.value}`}`;
  });
  const width = Math.max(...heads.map((head) => head.length));
  return Object.values(options)
    .map((spec, i) => `${heads[i]!.padEnd(width)}  ${spec.description}${spec.multiple ? ' (repeatable)' : ''}`)
    .join('\n');
}
