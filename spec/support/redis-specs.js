// Which specs need Redis, for jest.config.js. A spec needs Redis when it imports the Redis test support
// (spec/support/redis*.ts: the server of the run, a server or cluster of its own, a Redis target), directly
// or through a suite, fixture or helper it imports. Nothing to declare, nothing to forget: the import that
// reaches Redis is the declaration.
const { readdirSync, readFileSync } = require('node:fs');
const { basename, dirname, join, resolve } = require('node:path');

/** Relative module specifiers of `import ... from`, `import '...'`, `export ... from` and `require()`. */
const LOCAL_IMPORT = /(?:\bfrom|\bimport|\brequire\()\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every `.ts` file under `dir`, as absolute paths. */
function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The spec files that import, at any depth, a module of `spec/support/redis*.ts`. Absolute paths, sorted. */
function redisSpecs(specDir) {
  const files = tsFiles(specDir);
  const importers = new Map(files.map((file) => [file, []]));
  for (const file of files) {
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(LOCAL_IMPORT)) {
      const base = resolve(dirname(file), specifier);
      const target = [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => importers.has(candidate));
      if (target !== undefined) importers.get(target).push(file);
    }
  }
  const support = join(specDir, 'support');
  const reached = new Set(files.filter((file) => dirname(file) === support && basename(file).startsWith('redis')));
  for (const file of reached) for (const importer of importers.get(file)) reached.add(importer);
  return [...reached].filter((file) => file.endsWith('.spec.ts')).sort();
}

module.exports = { redisSpecs };
