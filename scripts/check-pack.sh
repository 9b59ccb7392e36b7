#!/usr/bin/env bash
# Builds the package, packs it, installs the tarball into a fresh project, and uses it from JavaScript
# and from TypeScript, as a user who runs `npm install cachet` would.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -rf dist
npm run build --silent
tarball=$(npm pack --silent --pack-destination "$work")

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --prefer-offline "./$tarball" "typescript@$(node -p "require('$root/node_modules/typescript/package.json').version")" "@types/node@$(node -p "require('$root/node_modules/@types/node/package.json').version")" >/dev/null

cat > consumer.js <<'JS'
const { Cache, Cached, MemoryStore, RedisStore, setDefaultCache, createTokenizer } = require('cachet');
// stemmer and p-limit ship ESM only: Node >= 20.19 loads them through require(esm).
if (createTokenizer()('possibly connected').join(' ') !== 'possibl connect') throw new Error('the stemmer did not load from the packed tarball');
const cache = new Cache({ store: new MemoryStore() });
let calls = 0;
const f = cache.wrap(async (x) => { calls++; return x * 2; }, { name: 'double' });
(async () => {
  await f(2); await f(2);
  if (calls !== 1 || typeof Cached !== 'function' || typeof RedisStore !== 'function' || typeof setDefaultCache !== 'function') {
    throw new Error('cachet did not work from the packed tarball');
  }
  const { LocalProvider } = require('cachet/testing');
  const provider = new LocalProvider();
  const baseURL = await provider.start();
  const res = await fetch(`${baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) });
  const body = await res.json();
  // A stream through ChatClient loads its SSE parser (a dependency) from the built CommonJS package.
  const { ChatClient } = require('cachet');
  const client = new ChatClient({ baseURL, apiKey: 'test' });
  let streamed = '';
  for await (const chunk of client.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })) streamed += chunk.choices[0]?.delta?.content ?? '';
  await client.close();
  await provider.close();
  if (res.status !== 200 || !body.choices?.[0]?.message?.content) throw new Error('cachet/testing did not work from the packed tarball');
  if (streamed !== body.choices[0].message.content) throw new Error('ChatClient.stream did not work from the packed tarball');
  console.log('pack check (js, cachet and cachet/testing): ok');
})();
JS
node consumer.js

cat > consumer.ts <<'TS'
import { Cache, Cached } from 'cachet';
const cache = new Cache();
export class Svc {
  @Cached({ cache, ttl: '1m' })
  async get(id: number): Promise<string> {
    return String(id);
  }
}
const out: Promise<string> = new Svc().get(1);
void out;
TS
npx tsc --noEmit --strict --target ES2022 --module commonjs --moduleResolution node10 --types node consumer.ts
npx tsc --noEmit --strict --target ES2022 --module nodenext --moduleResolution nodenext --types node consumer.ts
npx tsc --noEmit --strict --experimentalDecorators --target ES2022 --module commonjs --types node consumer.ts
echo "pack check (ts, both decorator dialects): ok"
