export type { OutputParser, ParseResult } from './types.js';
export { PARSERS, parseOutput, parserByName, parserBySniff } from './registry.js';
export { parseQasetPath, parseDoneStamp, type QasetParseResult, type QasetTestResult, type WalkOptions } from './walker.js';
export { parseTestResults, type CtcsTestResult } from './parsers/ctcs2.js';
