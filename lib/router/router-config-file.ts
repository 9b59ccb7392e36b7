import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { routerFromConfig, type ConfiguredRouter, type RouterFromConfigOptions } from './router-config';

/** The part of the `yaml` package's API cachet uses (an optional peer dependency, loaded for `.yaml` files only). */
interface YamlParser {
  parse(source: string): unknown;
}

function requireYaml(path: string): YamlParser {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded on first use
    return require('yaml') as YamlParser;
  } catch (error) {
    throw new TypeError(
      `Router configuration ${path} is YAML, which needs the yaml package: npm i yaml (or write the file as JSON)`,
      { cause: error },
    );
  }
}

/**
 * {@link routerFromConfig} of a file: JSON, or YAML when its name ends in `.yaml` or `.yml` (read with the
 * `yaml` package, an optional peer dependency, in YAML 1.2, where `no` stays a string). A file that cannot
 * be read or parsed throws a `TypeError` naming it and, for YAML, the line and column.
 * @example const { router } = routerFromFile('routes.yaml', { env: process.env });
 */
export function routerFromFile(path: string, options: RouterFromConfigOptions = {}): ConfiguredRouter {
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  const parser = yaml ? requireYaml(path) : JSON;
  let config: unknown;
  try {
    config = parser.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const format = yaml ? 'YAML' : 'JSON';
    throw new TypeError(`Router configuration ${path} could not be read as ${format}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return routerFromConfig(config, options);
}
