// Types of every call and answer of the callguard browser package. Hand-kept next to the Rust
// types in src/api.rs, src/model.rs, src/score.rs, src/gate.rs and src/practice.rs;
// tests/web/types.ts type-checks real answers against them (`cargo xtask test`).

export type Party = "debtor" | "third_party" | "unknown" | "minor";
export type Channel = "call" | "sms" | "visit" | "letter";
export type Severity = "error" | "warning" | "info";
export type Speaker = "agent" | "customer" | "third_party" | "unknown";
export type Category =
  | "abusive_language" | "threat" | "impersonation" | "false_legal_claim"
  | "unauthorized_promise" | "improper_payment_channel" | "debt_inducement" | "provocation"
  | "discourtesy" | "third_party_disclosure" | "third_party_collection"
  | "disclosure_before_verification" | "pii_exposure"
  | "minor_contact" | "vulnerable_pressure" | "missing_opening" | "missing_closing"
  | "vague_promise" | "review_needed" | "outside_calling_window" | "contact_frequency" | "third_party_contact"
  | "field_visit"
  | "long_silence"
  | "talking_over"
  | "fast_speech"
  | "talk_dominance"
  | "repeated_demand";
export type ThirdPartyPolicy = "never" | "if_unreachable" | "if_unreachable_or_broken_promise" | "allowed";

/** Every answer is data: a success with the answer's fields, or a failure with its errors. */
export type Answer<T> = ({ type: "success" } & T) | Failure;
export interface Failure { type: "failure"; errors: Problem[] }
export interface Problem {
  message: string;
  help: string;
  code: string;
  location?: { line?: number; column?: number; rule?: string; field?: string };
}

export interface PackStamp { id: string; version: string; sha256: string }

/** A flagged span. `start`/`end` are UTF-8 bytes; `utf16_start`/`utf16_end` index a JS string. */
export interface Finding {
  rule: string;
  category: Category;
  severity: Severity;
  start: number;
  end: number;
  utf16_start: number;
  utf16_end: number;
  excerpt: string;
  message: string;
  suggestion?: string;
  sources: string[];
  turn?: number;
  /** The clause the finding sits in (UTF-8 and UTF-16 spans) and a sentence to say instead. */
  rewrite?: Rewrite;
}

export interface Rewrite {
  start: number;
  end: number;
  utf16_start: number;
  utf16_end: number;
  text: string;
}

export interface ContextInput {
  dpd?: number;
  stage?: string;
  party?: Party;
  identity_verified?: boolean;
  third_party_informed?: boolean;
  vulnerable?: boolean;
  channel?: Channel;
}
export interface CheckCall { pack?: string; text: string; context?: ContextInput }
export interface StageView {
  dpd: number;
  stage: string | null;
  name: string;
  guidance: string[];
  third_party_contact: ThirdPartyPolicy;
  sources: string[];
}
export interface CheckAnswer { pack: PackStamp; findings: Finding[]; stage?: StageView }

export interface Turn { speaker: Speaker; text: string; start?: number; end?: number }
/** Call metadata a transcript carried (JSON fields, `# key: value` headers, WebVTT NOTEs). */
export interface CallMeta {
  call_id?: string;
  agent_id?: string;
  agent_name?: string;
  team?: string;
  started_at?: string;
  /** `outbound` (呼出), `inbound` (呼入), or the source's own word. */
  direction?: string;
  debtor_id?: string;
  /** Every other field of the source, as it was. */
  extra?: Record<string, unknown>;
}
export interface Transcript { id?: string | null; dpd?: number | null; meta?: CallMeta; notes?: string[]; turns: Turn[] }
export interface ScoreCall {
  pack?: string;
  /** Our turns (with metadata) or a speech-to-text result (Aliyun, Tencent, iFlytek, FunASR, Whisper/WhisperX). */
  transcript?: Transcript | Record<string, unknown> | unknown[];
  content?: string;
  format?: "json" | "text" | "txt" | "vtt" | "webvtt" | "srt";
  dpd?: number;
  id?: string;
  /** In a speech-to-text result, the channel or speaker (from 0) that is the agent. */
  agent_channel?: number;
}
export interface ParseCall { content: string; format: "json" | "text" | "txt" | "vtt" | "webvtt" | "srt"; agent_channel?: number }
export interface ParseAnswer { transcript: Transcript }
export interface Deduction { category: Category; points: number; findings: number }
export interface PromiseSummary { turn: number; concrete: boolean; days?: number }
export interface TurnState {
  turn: number;
  speaker: Speaker;
  party: Party;
  identity_verified: boolean;
  third_party_informed: boolean;
  vulnerable: boolean;
}
export interface Scorecard {
  id?: string;
  dpd?: number;
  stage?: string;
  score: number;
  auto_fail: boolean;
  deductions: Deduction[];
  findings: Finding[];
  counterpart: Party;
  identity_verified: boolean;
  vulnerable: boolean;
  promise?: PromiseSummary;
  timeline: TurnState[];
  meta?: CallMeta;
  /** What the reader or scorer assumed: no DPD, speakers taken from a channel. */
  notes?: string[];
}
export interface ScoreAnswer extends Scorecard { pack: PackStamp }

export interface Attempt { at: string; party?: Party; phone?: string; outcome: "connected" | "unanswered" | "refused"; channel?: Channel }
export interface Contact {
  at: string;
  debtor_utc_offsets?: string[];
  party?: Party;
  phone?: string;
  channel?: Channel;
  dpd?: number;
  history?: Attempt[];
  debtor_unreachable?: boolean;
  broken_promise?: boolean;
  collectors?: number;
}
export interface GateCall { pack?: string; contact: Contact }
export interface Counts {
  debtor_connected_today: number;
  debtor_connected_limit?: number;
  phone_attempts_today: number;
  phone_attempts_limit?: number;
  third_party_calls_today: number;
  third_party_calls_limit?: number;
}
export interface GateAnswer {
  pack: PackStamp;
  allowed: boolean;
  findings: Finding[];
  next_allowed_at: string | null;
  debtor_local_times: string[];
  stage?: StageView;
  today: Counts;
}

export interface Limit { limit: number; sources: string[] }
export interface Calling {
  window: { start_minute: number; end_minute: number; sources: string[] } | null;
  debtor_connected_per_day: Limit | null;
  attempts_per_phone_per_day: Limit | null;
  third_party_calls_per_day: Limit | null;
  stop_after_refusal: { enabled: boolean; sources: string[] } | null;
  visit_min_collectors: Limit | null;
}
export interface Stage {
  id: string;
  name: string;
  from: number;
  to: number | null;
  third_party_contact: ThirdPartyPolicy;
  guidance: string;
  sources: string[];
  /** The policy in force over this stage's days once every pack of the chain applies (the strictest wins). */
  third_party_in_force: ThirdPartyPolicy;
  /** When a parent pack's stricter policy overrides this stage's own: that pack and its sources. */
  in_force_pack?: string;
  in_force_sources?: string[];
}
export interface PackSummary {
  id: string;
  version: string;
  sha256: string;
  title: string;
  jurisdiction: string;
  description: string;
  default_utc_offset_minutes: number;
  extends?: string;
  chain: string[];
  rules: number;
  calling: Calling;
  stages: Stage[];
  notices: { code: string; message: string }[];
}
export interface PacksAnswer { default: string; packs: PackSummary[] }
export interface LoadPackAnswer { pack: PackSummary }
export interface SelfTestAnswer { packs: number; rules: number; examples: number }

export type Goal = "identity_verified" | "no_findings" | "concrete_promise" | "said" | "closing";
export interface ScenarioSummary {
  id: string;
  title: string;
  summary: string;
  persona: string;
  pack: string;
  dpd: number;
  stage?: string;
  counterpart: Party;
  debtor: string;
  sources: string[];
  max_replies: number;
  objectives: { id: string; label: string; goal: Goal }[];
}
export interface ScenariosAnswer { scenarios: ScenarioSummary[] }
export interface PracticeCall { scenario: string; replies?: string[] }
export interface ObjectiveState {
  id: string;
  label: string;
  status: "done" | "pending" | "missed";
  turn?: number;
  reason?: string;
}
export interface Debrief {
  score: number;
  auto_fail: boolean;
  deductions: {
    category: Category;
    points: number;
    rules: { rule: string; message: string; sources: string[]; turns: number[]; excerpts: string[]; suggestion?: string }[];
  }[];
  missed: { id: string; label: string; hint: string }[];
}
export interface PracticeAnswer {
  pack: PackStamp;
  scenario: string;
  dpd: number;
  turns: { speaker: Speaker; text: string; step?: string }[];
  findings: Finding[];
  objectives: ObjectiveState[];
  next: string | null;
  finished: boolean;
  scorecard: Scorecard;
  debrief?: Debrief;
}
