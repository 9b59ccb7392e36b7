import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

// The README is for users who paste its examples. Blocks marked `<!-- checked -->` are whole programs:
// each is compiled as its own file against the library (imports of 'cachet' resolve to lib/), in a
// CommonJS project as NestJS and most Node services are, under each decorator dialect.

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const MARK = '<!-- checked -->';

interface Block {
  /** 1-based README line of the block's first line of code. */
  readonly line: number;
  readonly code: string;
}

function checkedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  lines.forEach((text, i) => {
    if (text.trim() !== MARK) return;
    if (lines[i + 1] !== '```ts')
      throw new Error(`README.md:${i + 1}: ${MARK} must stand right above a \`\`\`ts block`);
    const end = lines.indexOf('```', i + 2);
    blocks.push({ line: i + 3, code: lines.slice(i + 2, end).join('\n') });
  });
  return blocks;
}

/** The library's and the packages' parsed files, shared by the two dialects' programs (parsing is most of the time). */
const parsed = new Map<string, ts.SourceFile | undefined>();

/** Type-checks the blocks; returns the problems as `README.md:<line>: <message>`. */
function typeCheck(blocks: readonly Block[], dialect: 'legacy' | 'standard'): string[] {
  // Virtual files inside the repository, so that their imports of other packages resolve as ours do.
  const files = new Map(blocks.map((block) => [join(ROOT, 'spec', 'docs', `readme-line-${block.line}.ts`), block]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    experimentalDecorators: dialect === 'legacy',
    emitDecoratorMetadata: dialect === 'legacy',
    paths: { cachet: [join(ROOT, 'lib', 'index.ts')], 'cachet/*': [join(ROOT, 'lib', '*', 'index.ts')] },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name)?.code ?? readFile.call(host, name);
  host.getSourceFile = (name, language, ...rest) => {
    const block = files.get(name);
    if (block !== undefined) return ts.createSourceFile(name, block.code, language);
    if (!parsed.has(name)) parsed.set(name, getSourceFile.call(host, name, language, ...rest));
    return parsed.get(name);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  // Only the blocks' own diagnostics: the library is type-checked by `npm run typecheck`.
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...[...files.keys()].flatMap((name) => {
      const file = program.getSourceFile(name);
      return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
    }),
  ];
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const block = files.get(d.file.fileName);
    return block === undefined
      ? `${d.file.fileName}:${line + 1}: ${message}`
      : `README.md:${block.line + line}: ${message}`;
  });
}

describe('README.md', () => {
  const blocks = checkedBlocks(README);

  it('marks the Quick start and the other whole examples to be compiled', () => {
    const quickStart = README.split('\n').indexOf('## Quick start') + 1;
    expect(blocks[0]?.line).toBe(quickStart + 4); // the heading, a blank line, the mark, the fence
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it.each(['legacy', 'standard'] as const)('compiles every marked block as pasted, with %s decorators', (dialect) => {
    expect(typeCheck(blocks, dialect)).toEqual([]);
  });

  it('has a line for users to install the package, apart from the contributor set-up', () => {
    expect(README).toMatch(/## Install\n\n```sh\nnpm i cachet\n```/);
    expect(README.indexOf('npm i cachet\n')).toBeLessThan(README.indexOf('npm install && npm test'));
  });

  it('has no issue numbers and nothing "in progress"', () => {
    expect(README).not.toMatch(/\bissue\s*#?\d|in progress/i);
  });
});
