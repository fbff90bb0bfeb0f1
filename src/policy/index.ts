export {
  EnforcementMode,
  EvaluationMode,
  GlobalPolicyEvaluationMode,
  attestorProblem,
  buildPolicy,
  formatPolicyYaml,
  parseEvaluationMode,
  policyProblems,
  ruleKeyProblem,
  ruleSets,
} from './binauthz.js';
export type { AdmissionRule, BinauthzPolicy, PolicyRequest, RuleSet } from './binauthz.js';
export { matchesNamePattern, namePatternProblem } from './pattern.js';
export { Verdict, globalPolicyPatterns, simulatePolicy } from './simulate.js';
export type { InventoryItem, SimulationContext, SimulationResult } from './simulate.js';
export { auditLogExportCommand, parseDenials, parseLogEntries, readAuditLog, summarizeAuditLog } from './audit-log.js';
export type { AuditLogSummary, Violation } from './audit-log.js';
