// The shapes of the API's answers the console reads (see /docs for the full schemas).

export type JourneyStatus = "draft" | "live" | "paused" | "archived";

export interface ActivityCounts {
  active: number;
  entered_24h: number;
  entered_7d: number;
  converted_24h: number;
  converted_7d: number;
  entered_total: number;
  converted_total: number;
  conversion_rate: number | null;
}

export interface JourneyOverview {
  key: string;
  name: string;
  status: JourneyStatus;
  latest_version: number | null;
  updated_at: string;
  activity: ActivityCounts;
}

export interface FunnelStep {
  node: string;
  entered: number;
  waiting: number;
  ended: Record<string, number>;
}

export interface JourneyActivity extends ActivityCounts {
  journey: string;
  version: number | null;
  nodes: FunnelStep[];
}

export interface VersionSummary {
  version: number;
  checksum: string;
  author: string;
  published_at: string;
}

export type Definition = Record<string, unknown>;

export interface JourneyDetail {
  key: string;
  name: string;
  status: JourneyStatus;
  latest_version: number | null;
  draft: Definition | null;
  versions: VersionSummary[];
  definition: Definition | null;
}

export interface VersionDetail extends VersionSummary {
  definition: Definition;
}

export interface VersionDiff {
  from_version: number;
  to_version: number;
  changes: { path: string; before?: unknown; after?: unknown }[];
  unified: string;
}

export interface ProblemOut {
  path: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  problems: ProblemOut[];
  warnings: ProblemOut[];
}

export interface PublishResult {
  key: string;
  version: number;
  created: boolean;
  status: JourneyStatus;
}

export interface EnrollmentSummary {
  id: string;
  journey: string;
  version: number;
  profile_id: string;
  correlation: string | null;
  status: string;
  current_node: string | null;
  holdout: boolean;
  started_at: string;
  ended_at: string | null;
}

export interface Step {
  node_id: string;
  visit: number;
  node_type: string;
  decision: Record<string, unknown> | null;
  entered_at: string;
}

export interface Delivery {
  id: number;
  node_key: string;
  channel: string;
  template: string | null;
  template_version: number | null;
  status: string;
  reason: string | null;
  payload: Record<string, unknown>;
  created_at: string;
  scheduled_at: string | null;
  sent_at: string | null;
}

export interface EnrollmentDetail extends EnrollmentSummary {
  workflow_id: string;
  steps: Step[];
  deliveries: Delivery[];
  exposures: { node_id: string; variant: string; exposed_at: string }[];
  live: Record<string, unknown> | null;
}

export interface ProfileView {
  id: string;
  traits: Record<string, unknown>;
  timezone: string | null;
  signals: Record<string, unknown>;
  identities: Record<string, string>[];
  merged_profiles: string[];
  enrollments: EnrollmentSummary[];
  recent_events: { message_id: string; type: string; name: string | null; properties: unknown; timestamp: string }[];
}

export interface Range {
  low: number;
  high: number;
}

export interface VariantResult {
  variant: string;
  is_control: boolean;
  weight: number | null;
  exposures: number;
  conversions: number;
  conversion_rate: number;
  conversion_rate_interval: Range | null;
  revenue: number;
  revenue_per_exposure: number;
  lift: number | null;
  lift_interval: Range | null;
  p_value: number | null;
  p_value_holm: number | null;
  chance_to_beat_control: number | null;
}

export interface SplitResult {
  node: string;
  goal: string;
  control: string;
  scale: "relative" | "absolute";
  adaptive: boolean;
  variants: VariantResult[];
  srm_p_value: number | null;
  srm_warning: boolean;
  verdict: string;
}

export interface Report {
  journey: string;
  version: number | null;
  goals: string[];
  splits: SplitResult[];
  holdout: SplitResult[];
  funnel: FunnelStep[];
  alpha: number;
  scale: "relative" | "absolute";
}

export interface Timeseries {
  points: { until: string; result: SplitResult }[];
}

export interface Breakdown {
  by: string;
  buckets: { bucket: string; result: SplitResult }[];
}

export interface Template {
  name: string;
  version: number;
  subject: string | null;
  body: string;
  html: string | null;
  updated_at: string;
}

export interface Preview {
  subject: string | null;
  body: string | null;
  html: string | null;
}
