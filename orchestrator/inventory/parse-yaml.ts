// Reads an inventory file and parses it into a yaml Document that keeps every node's source
// range, plus a LineCounter to turn offsets into lines and columns. yaml's own errors and
// warnings (bad indentation, tabs, duplicate keys, unresolved tags...) become issues.

import { readFile } from 'node:fs/promises';
import { LineCounter, isScalar, parseDocument, visit } from 'yaml';
import type { Document, YAMLError } from 'yaml';
import type { InventoryIssue } from './errors.js';

export interface YamlSource {
  /** The file as named by the caller; used in issues. */
  file: string;
  text: string;
  doc: Document;
  lineCounter: LineCounter;
}

export interface ParsedYaml {
  /** Absent when the file could not be read. */
  source?: YamlSource;
  issues: InventoryIssue[];
  /**
   * False when the YAML itself is broken (anything but duplicate keys and warnings): the
   * recovered document is then not trusted for further checks.
   */
  usable: boolean;
}

export async function parseYamlFile(file: string): Promise<ParsedYaml> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { issues: [unreadableFileIssue(file, error, 'a readable YAML inventory file')], usable: false };
  }
  return parseYamlText(file, text);
}

export function parseYamlText(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, merge: true });
  const source: YamlSource = { file, text, doc, lineCounter };
  const issues: InventoryIssue[] = [];
  let usable = true;
  for (const error of doc.errors) {
    issues.push(yamlIssue(source, error));
    if (error.code !== 'DUPLICATE_KEY') usable = false;
  }
  for (const warning of doc.warnings) issues.push(yamlIssue(source, warning));
  return { source, issues, usable };
}

/** An issue at line 1, column 1 of a file that does not exist or cannot be read. */
export function unreadableFileIssue(file: string, error: unknown, expected: string): InventoryIssue {
  return { file, line: 1, column: 1, message: `cannot read ${file}: ${readErrorReason(error)}`, expected };
}

/** Why a file could not be read, in plain words. */
export function readErrorReason(error: unknown): string {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOENT':
      return 'the file does not exist';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return String((error as Error | undefined)?.message ?? error);
  }
}

function yamlIssue(source: YamlSource, error: YAMLError): InventoryIssue {
  const start = error.linePos?.[0] ?? source.lineCounter.linePos(error.pos[0]);
  const base = { file: source.file, line: start.line, column: start.col };
  if (error.code === 'DUPLICATE_KEY') return { ...base, ...duplicateKeyMessage(source, error.pos[0]) };
  if (error.code === 'TAB_AS_INDENT') {
    return { ...base, message: 'a tab is used for indentation', expected: 'spaces for indentation' };
  }
  // yaml's message is "<text> at line L, column C:\n\n<excerpt>"; the place is ours to print.
  const firstLine = error.message.split('\n')[0] ?? error.message;
  const message = firstLine.replace(/ at line \d+, column \d+:?$/, '');
  return { ...base, message: `YAML: ${lowerFirst(message)}` };
}

function duplicateKeyMessage(source: YamlSource, offset: number): { message: string; expected: string } {
  let key = source.text.slice(offset).split(/[:\n]/, 1)[0]?.trim() ?? '';
  let firstLine: number | undefined;
  visit(source.doc, {
    Map(_, map) {
      const index = map.items.findIndex((pair) => isScalar(pair.key) && pair.key.range?.[0] === offset);
      if (index < 0) return undefined;
      const duplicate = map.items[index]!.key;
      if (isScalar(duplicate)) key = String(duplicate.value);
      const first = map.items.find(
        (pair, i) => i < index && isScalar(pair.key) && String(pair.key.value) === key,
      );
      const firstOffset = isScalar(first?.key) ? first.key.range?.[0] : undefined;
      if (firstOffset !== undefined) firstLine = source.lineCounter.linePos(firstOffset).line;
      return visit.BREAK;
    },
  });
  const where = firstLine === undefined ? '' : ` (first at line ${firstLine})`;
  return { message: `duplicate key '${key}'${where}`, expected: 'each key only once in a mapping' };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
