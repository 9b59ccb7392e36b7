#!/usr/bin/env bash
# Packs cachet, installs the tarball once into an empty project, and uses every entry point from there as
# users would: CommonJS and ES module JavaScript, and TypeScript under every moduleResolution (node10,
# node16, nodenext, bundler) in both decorator dialects. The consumers are in scripts/pack-check/.
# Needs no Redis server.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fixtures="$root/scripts/pack-check"
work=$(mktemp -d)
# PACK_CHECK_KEEP=1 keeps the consumer project for a look after the run.
if [ -n "${PACK_CHECK_KEEP:-}" ]; then echo "consumer project: $work"; else trap 'rm -rf "$work"' EXIT; fi
started=$SECONDS
step() { printf '%s (%ss)\n' "$1" "$((SECONDS - started))"; }

rm -rf dist
npm run build --silent
tarball=$(npm pack --silent --ignore-scripts --pack-destination "$work")

# What the tarball holds: the licence, the build with its declarations, and source maps that carry their
# sources (stack traces and debuggers show TypeScript from the installed package alone).
node - "$work/$tarball" <<'JS'
const { execFileSync } = require('node:child_process');
const tarball = process.argv[2];
const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
const need = ['package/LICENSE', 'package/README.md', 'package/package.json', 'package/dist/index.js', 'package/dist/index.d.ts', 'package/lib/index.ts', 'package/dist/cli/main.js'];
for (const entry of ['redis', 'llm', 'router', 'retrieval', 'testing', 'nestjs', 'ai-sdk', 'otel']) need.push(`package/dist/${entry}/index.js`, `package/dist/${entry}/index.d.ts`);
const missing = need.filter((file) => !files.includes(file));
if (missing.length > 0) throw new Error(`the tarball lacks ${missing.join(', ')}`);
const strays = files.filter((file) => !/^package\/(dist|lib)\//.test(file) && !['package/LICENSE', 'package/README.md', 'package/package.json'].includes(file));
if (strays.length > 0) throw new Error(`the tarball holds files it should not: ${strays.join(', ')}`);
const maps = files.filter((file) => file.endsWith('.js.map'));
if (maps.length !== files.filter((file) => /^package\/dist\/.*\.js$/.test(file)).length) throw new Error('not every .js in dist/ has its source map');
const map = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/dist/cache/cache.js.map'], { encoding: 'utf8' }));
if (!map.sources?.[0]?.endsWith('lib/cache/cache.ts') || !map.sourcesContent?.[0]?.includes('export class Cache')) {
  throw new Error('dist/cache/cache.js.map does not carry the source of lib/cache/cache.ts');
}
console.log(`tarball: ${files.length} files; LICENSE, dist/ with declarations, lib/, ${maps.length} source maps with their sources`);
JS

cd "$work"
npm init -y >/dev/null
version() { node -p "require('$root/node_modules/$1/package.json').version"; }
# cachet/nestjs, cachet/ai-sdk and cachet/otel need their optional peer dependencies, as the applications that use them have
# them; @ai-sdk/openai-compatible is the provider the ai-sdk exercise talks to. @ai-sdk/provider's declarations
# import `json-schema` without depending on its types: a project with skipLibCheck off (the last one below) needs
# @types/json-schema, as every AI SDK user with skipLibCheck off does.
npm install --no-audit --no-fund --prefer-offline --silent "./$tarball" "typescript@$(version typescript)" "@types/node@$(version @types/node)" \
  "@nestjs/common@$(version @nestjs/common)" "@nestjs/core@$(version @nestjs/core)" "rxjs@$(version rxjs)" \
  "ai@$(version ai)" "@ai-sdk/openai-compatible@$(version @ai-sdk/openai-compatible)" "zod@$(version zod)" "@types/json-schema@$(version @types/json-schema)" \
  "@opentelemetry/api@$(version @opentelemetry/api)"
step "installed"

# JavaScript: every entry point from require() and from import, then what each one loads and changes.
cp "$fixtures"/exercise.cjs "$fixtures"/consumer.cjs "$fixtures"/consumer.mjs "$fixtures"/isolation.cjs .
node consumer.cjs
node consumer.mjs
node isolation.cjs
step "javascript: ok"

# The command line: the installed bin answers --help (which loads every command and its dependencies), and
# without a Redis it says so with its exit code (3), not a crash.
npx --no-install cachet --help | grep -q '^Usage: cachet <command>'
npx --no-install cachet stats --help | grep -q '^Usage: cachet stats'
set +e
npx --no-install cachet stats --url "redis://127.0.0.1:1" --timeout 1s 2>cachet-stderr.txt
code=$?
set -e
if [ "$code" != 3 ] || ! grep -q 'Cannot reach Redis at 127.0.0.1:1' cachet-stderr.txt; then
  echo "cachet stats without a Redis: exit code $code, expected 3"; cat cachet-stderr.txt; exit 1
fi
step "bin: cachet --help and its exit code for no Redis: ok"

# TypeScript: one project per moduleResolution, module format and decorator dialect, built together with
# `tsc -b`, then each output runs. The consumer imports from every entry point and decorates methods with
# @Cached; its @ts-expect-error lines fail the build if a type resolved to `any`. skipLibCheck is on, as
# in NestJS's tsconfig; the last project turns it off, so that cachet's own declarations are checked too.
#        name              module    moduleResolution  file extension  skipLibCheck
configs=(
  "node10            commonjs  node10    ts   true"
  "node16-commonjs   node16    node16    cts  true"
  "node16-esm        node16    node16    mts  true"
  "nodenext-commonjs nodenext  nodenext  cts  true"
  "nodenext-esm      nodenext  nodenext  mts  true"
  "bundler           esnext    bundler   ts   true"
  "bundler-preserve  preserve  bundler   ts   true"
  "declarations      nodenext  nodenext  mts  false"
)
projects=()
for config in "${configs[@]}"; do
  read -r name module resolution extension skipLibCheck <<<"$config"
  dialects=(standard legacy)
  [ "$skipLibCheck" = false ] && dialects=(standard)
  for dialect in "${dialects[@]}"; do
    dir="ts/$name-$dialect"
    mkdir -p "$dir"
    cp "$fixtures/consumer.ts" "$dir/consumer.$extension"
    decorators='"experimentalDecorators": false'
    [ "$dialect" = legacy ] && decorators='"experimentalDecorators": true, "emitDecoratorMetadata": true'
    cat >"$dir/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "strict": true,
    "target": "ES2022",
    "module": "$module",
    "moduleResolution": "$resolution",
    "types": ["node"],
    "skipLibCheck": $skipLibCheck,
    "outDir": "out",
    $decorators
  },
  "files": ["consumer.$extension"]
}
JSON
    # Bundler output is ES module syntax in .js files.
    if [ "$resolution" = bundler ]; then mkdir -p "$dir/out" && echo '{ "type": "module" }' >"$dir/out/package.json"; fi
    projects+=("$dir")
  done
done
npx tsc -b "${projects[@]}"
step "typescript: ${#projects[@]} projects compiled"
for dir in "${projects[@]}"; do
  node "$(ls "$dir"/out/consumer.*js)"
done
step "typescript: ${#projects[@]} outputs ran: ok"
echo "pack check: ok"
