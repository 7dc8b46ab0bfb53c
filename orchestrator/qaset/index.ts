export type { OutputParser, ParseResult } from './types.js';
export { PARSERS, parseOutput, parserByName, parserBySniff } from './registry.js';
export { parseQasetPath, type QasetParseResult, type QasetTestResult, type WalkOptions } from './walker.js';
export { parseDoneStamp, parseNextRun, parseRunIdFile, readControl, currentCase, type QasetControl, type RunListEntry, type NextRunState } from './control.js';
export { parseListFailed, parseRunList, CaseNameSchema, FailedCaseSchema, type FailedCase, type ListProblem } from './case-lists.js';
export { parseTarballName, tcfBaseName, isTcfDirName, QASET_SYSINFO_FILES, type TarballName } from './qaset-layout.js';
export { parseTestResults, type CtcsTestResult } from './parsers/ctcs2.js';
