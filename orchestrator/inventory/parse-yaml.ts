// Reads an inventory file and parses it into a yaml Document that keeps every node's source
// range, plus a LineCounter to turn offsets into lines and columns. yaml's own errors and
// warnings (bad indentation, tabs, unresolved tags...) and duplicate keys become issues.
//
// Nothing here takes unbounded time or memory, and nothing blocks the event loop for long
// (see limits.ts and pacing.ts): the file's size is checked before it is read whole; a file
// that is not UTF-8 text, or holds control characters YAML does not allow, is refused with
// where, never echoed; the lexer and parser run in slices, counting nodes as they go; duplicate
// keys are found with one index per mapping (yaml's own check compares each key with every
// key before it: quadratic on a 20,000-host mapping); and what aliases and merge keys expand
// the document to is measured, once per node, before anything walks the data.

import { constants as fsConstants, open as openFd } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { CST, Composer, LineCounter, Lexer, Parser, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Alias, Document, Node, YAMLError } from 'yaml';
import { escapeControl } from './display.js';
import type { InventoryIssue } from './errors.js';
import { INVENTORY_LIMITS, formatCount } from './limits.js';
import { formatBytes } from './sizes.js';
import type { InventoryLimits } from './limits.js';
import { Pacer } from './pacing.js';

export interface YamlSource {
  /** The file as named by the caller; used in issues. */
  file: string;
  text: string;
  doc: Document;
  lineCounter: LineCounter;
  /** Each alias's anchored node (the last anchor of its name before it); filled by the parse. */
  aliasTargets?: WeakMap<Alias, Node>;
}

export interface ParsedYaml {
  /** Absent when the file could not be read or is not a YAML text file. */
  source?: YamlSource;
  issues: InventoryIssue[];
  /**
   * False when the YAML itself is broken (anything but duplicate keys and warnings): the
   * recovered document is then not trusted for further checks.
   */
  usable: boolean;
}

export interface ParseOptions {
  pacer?: Pacer;
  limits?: Partial<InventoryLimits>;
}

const TEXT_EXPECTED = 'a UTF-8 text YAML file';

export async function parseYamlFile(file: string, options: ParseOptions = {}): Promise<ParsedYaml> {
  const limits = { ...INVENTORY_LIMITS, ...options.limits };
  const read = await readBounded(file, limits.maxFileBytes);
  if ('issue' in read) return { issues: [read.issue], usable: false };
  const decoded = decodeText(file, read.bytes);
  if ('issue' in decoded) return { issues: [decoded.issue], usable: false };
  return parseYamlText(file, decoded.text, options);
}

/**
 * The file's bytes, read only when they are at most `maxBytes`. A named pipe (`<(command)`,
 * /dev/stdin from a pipe) is read up to that through a non-blocking pipe handle: a read
 * blocked in libuv's thread pool would keep the process from exiting on a signal. Devices
 * (a terminal, /dev/zero) are refused.
 */
async function readBounded(file: string, maxBytes: number): Promise<{ bytes: Buffer } | { issue: InventoryIssue }> {
  const expected = 'a readable YAML inventory file';
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    return { issue: unreadableFileIssue(file, error, expected) };
  }
  if (info.isDirectory()) return { issue: unreadableFileIssue(file, Object.assign(new Error('EISDIR'), { code: 'EISDIR' }), expected) };
  if (info.isFIFO()) return readPipe(file, maxBytes);
  if (!info.isFile()) {
    return { issue: { file, line: 1, column: 1, message: `cannot read ${file}: it is a device or socket, not a file`, expected } };
  }
  if (info.size > maxBytes) return { issue: tooBigIssue(file, info.size, maxBytes) };
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    return { issue: unreadableFileIssue(file, error, expected) };
  }
  try {
    // The size said is not trusted (the file may grow): read at most one byte more than allowed.
    const buffer = Buffer.alloc(Math.min(maxBytes, info.size) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > maxBytes) return { issue: tooBigIssue(file, undefined, maxBytes) };
    return { bytes: buffer.subarray(0, length) };
  } catch (error) {
    return { issue: unreadableFileIssue(file, error, expected) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** A named pipe, read until its writer closes it or more than `maxBytes` came. */
async function readPipe(file: string, maxBytes: number): Promise<{ bytes: Buffer } | { issue: InventoryIssue }> {
  let fd: number;
  try {
    fd = await promisify(openFd)(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    return { issue: unreadableFileIssue(file, error, 'a readable YAML inventory file') };
  }
  const pipe = new Socket({ fd, readable: true, writable: false });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    pipe.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length > maxBytes) {
        pipe.destroy();
        resolve({ issue: tooBigIssue(file, undefined, maxBytes) });
      }
    });
    pipe.on('end', () => resolve({ bytes: Buffer.concat(chunks, length) }));
    pipe.on('error', (error) => resolve({ issue: unreadableFileIssue(file, error, 'a readable YAML inventory file') }));
  });
}

function tooBigIssue(file: string, size: number | undefined, maxBytes: number): InventoryIssue {
  const what =
    size === undefined ? `more than ${formatBytes(maxBytes)}` : `${formatBytes(size)} (${formatCount(size)} bytes)`;
  return {
    file,
    line: 1,
    column: 1,
    message: `the file is ${what}, larger than an inventory may be (${formatBytes(maxBytes)}); it was not read`,
    expected: `an inventory file of at most ${formatBytes(maxBytes)} (${formatCount(maxBytes)} bytes)`,
  };
}

/**
 * Characters YAML does not allow in a file (anything but tab, LF, CR, NEL and printable
 * characters); written as escapes in a double-quoted string, they are fine.
 */
const NOT_YAML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/g;

/** The file as text, or why it is not a text file (its bytes are never quoted). */
function decodeText(file: string, bytes: Buffer): { text: string } | { issue: InventoryIssue } {
  const notText = (message: string): { issue: InventoryIssue } => ({
    issue: { file, line: 1, column: 1, message: `not a text (YAML) file: ${message}`, expected: TEXT_EXPECTED },
  });
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return notText('it starts with a UTF-16 byte-order mark; save it as UTF-8');
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) return notText(`it has NUL bytes (the first at byte ${nul}); is it a binary file?`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return notText('it is not valid UTF-8; is it a binary file?');
  }
  NOT_YAML.lastIndex = 0;
  const first = NOT_YAML.exec(text);
  if (first) {
    let count = 1;
    while (NOT_YAML.exec(text)) count++;
    NOT_YAML.lastIndex = 0;
    const { line, column } = lineAndColumn(text, first.index);
    const several = count === 1 ? 'a control character' : `${formatCount(count)} control characters`;
    return {
      issue: {
        file,
        line,
        column,
        message: `not a text (YAML) file: it has ${several}, which YAML does not allow (${count === 1 ? '' : 'the first, '}${escapeControl(first[0])}, here); is it a binary file or a terminal log?`,
        expected: `${TEXT_EXPECTED}; a control character in a value is written as an escape in a double-quoted string, such as "\\e" or "\\x07"`,
      },
    };
  }
  return { text };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The lexemes that start a node (or an entry that holds one): what maxNodes counts. */
const NODE_LEXEMES: ReadonlySet<string> = new Set([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'block-scalar-header',
  'alias',
  'flow-map-start',
  'flow-seq-start',
  'seq-item-ind',
  'explicit-key-ind',
  'map-value-ind',
]);

export async function parseYamlText(file: string, text: string, options: ParseOptions = {}): Promise<ParsedYaml> {
  const pacer = options.pacer ?? new Pacer();
  const limits = { ...INVENTORY_LIMITS, ...options.limits };
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  const parser = new Parser(lineCounter.addNewLine);
  // uniqueKeys: false; duplicates are found below, in linear time.
  const composer = new Composer({ uniqueKeys: false, merge: true });
  const docs: Document.Parsed[] = [];
  let nodes = 0;
  let lexemes = 0;
  let aliases = 0;
  let scalarNext = false;
  for (const lexeme of new Lexer().lex(text)) {
    if (scalarNext) {
      scalarNext = false;
    } else {
      const type = CST.tokenType(lexeme);
      if (type === 'scalar') scalarNext = true;
      else if (type === 'alias') aliases++;
      if (type && NODE_LEXEMES.has(type) && ++nodes > limits.maxNodes) {
        const { line, col } = lineCounter.linePos(parser.offset);
        return {
          issues: [
            {
              file,
              line,
              column: col,
              message: `the inventory has more than ${formatCount(limits.maxNodes)} YAML nodes (keys, values, list items); it was not read further`,
              expected: `an inventory of at most ${formatCount(limits.maxNodes)} YAML nodes`,
            },
          ],
          usable: false,
        };
      }
    }
    for (const token of parser.next(lexeme)) for (const doc of composer.next(token)) docs.push(doc);
    if ((++lexemes & 127) === 0 && pacer.due()) await pacer.pause();
  }
  for (const token of parser.end()) for (const doc of composer.next(token)) docs.push(doc);
  for (const doc of composer.end(true, text.length)) docs.push(doc);
  await pacer.pause();

  const doc = docs[0]!;
  const source: YamlSource = { file, text, doc, lineCounter };
  const issues: InventoryIssue[] = [];
  let usable = true;
  for (const error of doc.errors) {
    issues.push(yamlIssue(source, error));
    usable = false;
  }
  for (const warning of doc.warnings) issues.push(yamlIssue(source, warning));
  if (docs.length > 1) {
    const { line, col } = lineCounter.linePos(docs[1]!.range[0]);
    issues.push({ file, line, column: col, message: 'the file holds more than one YAML document', expected: 'one YAML document' });
    usable = false;
  }
  const walked = await walkDocument(source, aliases > 0 ? limits.maxExpandedNodes : undefined, pacer);
  issues.push(...walked.issues);
  if (!walked.usable) usable = false;
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
  if (error.code === 'TAB_AS_INDENT') {
    return { ...base, message: 'a tab is used for indentation', expected: 'spaces for indentation' };
  }
  // yaml's message may end with " at line L, column C:" and an excerpt; the place is ours to print.
  const firstLine = error.message.split('\n')[0] ?? error.message;
  const message = firstLine.replace(/ at line \d+, column \d+:?$/, '');
  return { ...base, message: `YAML: ${lowerFirst(message)}` };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

interface Walked {
  issues: InventoryIssue[];
  usable: boolean;
}

/**
 * One pass over the document, in the order yaml resolves aliases (depth first, keys before
 * values): finds duplicate keys, resolves each alias to its anchor (for positions.ts), and
 * adds up the nodes the document holds once aliases and merge keys are expanded, refusing
 * it at the alias that takes it past `maxExpanded` (or at one that lies inside its own anchor).
 * Without aliases (maxExpanded undefined) only duplicate keys are looked for.
 */
async function walkDocument(source: YamlSource, maxExpanded: number | undefined, pacer: Pacer): Promise<Walked> {
  const { file, lineCounter } = source;
  const issues: InventoryIssue[] = [];
  const at = (node: Node | undefined, message: string, expected?: string): InventoryIssue => {
    const { line, col } = lineCounter.linePos(node?.range?.[0] ?? 0);
    return expected === undefined ? { file, line, column: col, message } : { file, line, column: col, message, expected };
  };
  const aliasTargets = new WeakMap<Alias, Node>();
  source.aliasTargets = aliasTargets;
  /** Expanded size of each node whose subtree is done. */
  const size = new Map<Node, number>();
  const anchors = new Map<string, Node>();
  const open = new Set<Node>();
  let expanded = 0;

  interface Frame {
    node: Node;
    children: Node[];
    next: number;
    total: number;
  }
  const childrenOf = (node: Node): Node[] => {
    const children: Node[] = [];
    if (isMap(node)) {
      const firstOf = new Map<unknown, Node>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isScalar(key) && typeof key.value !== 'symbol') {
          const first = firstOf.get(key.value);
          if (first === undefined) {
            firstOf.set(key.value, key);
          } else {
            const firstLine = lineCounter.linePos(first.range?.[0] ?? 0).line;
            issues.push(at(key, `duplicate key '${String(key.value)}' (first at line ${firstLine})`, 'each key only once in a mapping'));
          }
        }
        if (key && typeof key === 'object') children.push(key);
        if (pair.value && typeof pair.value === 'object') children.push(pair.value as Node);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) {
          if (item.key && typeof item.key === 'object') children.push(item.key as Node);
          if (item.value && typeof item.value === 'object') children.push(item.value as Node);
        } else if (item && typeof item === 'object') {
          children.push(item as Node);
        }
      }
    }
    return children;
  };

  const root = source.doc.contents as Node | null;
  if (!root) return { issues, usable: true };
  if (maxExpanded === undefined) {
    const pending: Node[] = [root];
    while (pending.length > 0) {
      for (const child of childrenOf(pending.pop()!)) if (isMap(child) || isSeq(child)) pending.push(child);
      if (pacer.due()) await pacer.pause();
    }
    return { issues, usable: true };
  }
  let broken = false;
  let refused = false;
  /** Counts what a node adds to the expanded document; false once past the limit. */
  const add = (node: Node, amount: number): boolean => {
    expanded += amount;
    if (expanded <= maxExpanded) return true;
    refused = true;
    issues.push(
      at(
        node,
        isAlias(node)
          ? `alias '*${node.source}' takes the inventory past ${formatCount(maxExpanded)} nodes once aliases and merge keys are expanded (an alias bomb?); it was not read further`
          : `the inventory has more than ${formatCount(maxExpanded)} nodes once aliases and merge keys are expanded; it was not read further`,
        `anchors and aliases that expand to at most ${formatCount(maxExpanded)} nodes in all`,
      ),
    );
    return false;
  };
  const stack: Frame[] = [];
  /** Enters a node: its size when it has nothing inside to visit, else undefined (a frame is pushed). */
  const enter = (node: Node): number | undefined => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) {
        broken = true;
        issues.push(at(node, `alias '*${node.source}' has no anchor '&${node.source}' before it`, 'an alias after the anchor it names'));
        return 1;
      }
      aliasTargets.set(node, target);
      if (open.has(target)) {
        broken = true;
        issues.push(at(node, `alias '*${node.source}' is inside its own anchor '&${node.source}', which makes the data endless`, 'an alias outside the node it names'));
        return 1;
      }
      const targetSize = size.get(target) ?? 1;
      add(node, targetSize);
      return targetSize;
    }
    if (!add(node, 1)) return 1;
    if (node.anchor) anchors.set(node.anchor, node);
    const children = childrenOf(node);
    if (children.length === 0) {
      size.set(node, 1);
      return 1;
    }
    open.add(node);
    stack.push({ node, children, next: 0, total: 1 });
    return undefined;
  };

  enter(root);
  while (stack.length > 0 && !refused) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.children.length) {
      const childSize = enter(frame.children[frame.next++]!);
      if (childSize !== undefined) frame.total += childSize;
    } else {
      stack.pop();
      open.delete(frame.node);
      size.set(frame.node, frame.total);
      const parent = stack[stack.length - 1];
      if (parent) parent.total += frame.total;
    }
    if (pacer.due()) await pacer.pause();
  }
  return { issues, usable: !broken && !refused };
}
