/**
 * The folders of src/ form layers: a folder may import from folders below it, never from one that imports it back.
 * import-x/no-cycle catches cycles between files; this test catches them between folders, where a file-level
 * detour (a → b/x.ts → a/y.ts) hides them. Type-only imports count: they tie the layers together just the same.
 * See docs/adr/0185-folder-layers.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const srcRoot = resolve(import.meta.dirname, '../../src');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The top folder under src/ a file belongs to (`src/errors.ts` belongs to `.`, the root). */
function folderOf(file: string): string {
  const parts = relative(srcRoot, file).split(sep);
  return parts.length === 1 ? '.' : (parts[0] ?? '.');
}

/** Every relative module specifier of a file: static imports and re-exports (type-only too) and dynamic imports. */
export function importSpecifiers(text: string, fileName: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteralLike(argument)) found.push(argument.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.filter((specifier) => specifier.startsWith('.'));
}

/** Folder → the folders its files import (itself left out). */
export function folderGraph(files: readonly { path: string; text: string }[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = folderOf(file.path);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const specifier of importSpecifiers(file.text, file.path)) {
      const to = folderOf(resolve(dirname(file.path), specifier));
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** Each cycle once, as the path of folders around it (Tarjan's strongly connected components of more than one folder). */
export function folderCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);
  return components;
}

/** Which file imports which, inside one cycle: what a reader needs to break it. */
function cycleEdges(files: readonly { path: string; text: string }[], members: readonly string[]): string[] {
  const inside = new Set(members);
  return files.flatMap((file) => {
    const from = folderOf(file.path);
    if (!inside.has(from)) return [];
    return importSpecifiers(file.text, file.path)
      .map((specifier) => folderOf(resolve(dirname(file.path), specifier)))
      .filter((to) => to !== from && inside.has(to))
      .map((to) => `${relative(srcRoot, file.path)} → ${to}/`);
  });
}

describe('src/ folder layers', () => {
  it('has no import cycle between folders, type imports included', () => {
    const files = sourceFiles(srcRoot).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    const cycles = folderCycles(folderGraph(files)).map((members) => ({ members, edges: [...new Set(cycleEdges(files, members))] }));
    expect(cycles).toEqual([]);
  });

  it('finds a cycle that only type imports and a re-export close', () => {
    const file = (path: string, text: string) => ({ path: join(srcRoot, path), text });
    const graph = folderGraph([
      file('config/schema.ts', "import type { Mirror } from '../mapping/index.js';"),
      file('mapping/index.ts', "export { parse } from './map.js';"),
      file('mapping/map.ts', "import { type Config } from '../config/schema.js';"),
      file('google/api.ts', "const load = () => import('../errors.js');"),
    ]);
    expect(folderCycles(graph)).toEqual([['config', 'mapping']]);
  });

  it('passes a layered tree', () => {
    const file = (path: string, text: string) => ({ path: join(srcRoot, path), text });
    const graph = folderGraph([
      file('cli/run.ts', "import { copy } from '../copy/executor.js'; import type { X } from '../registry/client.js';"),
      file('copy/executor.ts', "import { RegistryClient } from '../registry/client.js';"),
      file('registry/client.ts', "import { MirrorhookError } from '../errors.js';"),
    ]);
    expect(folderCycles(graph)).toEqual([]);
  });
});
