// Reads the answers of Prometheus' instant-query API (/api/v1/query). Pure.

/** One sample of an instant vector. */
export interface Sample {
  /** The series' labels, `__name__` included when the expression kept it. */
  metric: Record<string, string>;
  value: number;
  /** Seconds since the epoch. */
  timestamp: number;
}

/** A refusal by Prometheus: a PromQL syntax error (`bad_data`), an evaluation error, ... */
export class PrometheusQueryError extends Error {
  readonly errorType: string;
  constructor(errorType: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PrometheusQueryError";
    this.errorType = errorType;
  }
}

/** Prometheus writes sample values as strings, with NaN and ±Inf spelled out. */
export function sampleValue(text: string): number {
  switch (text) {
    case "NaN":
      return Number.NaN;
    case "+Inf":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
      return Number.NEGATIVE_INFINITY;
    default: {
      const value = Number(text);
      if (text.trim() === "" || Number.isNaN(value))
        throw new Error(`unreadable sample value ${JSON.stringify(text)}`);
      return value;
    }
  }
}

/**
 * The samples of an instant query's answer: a vector as it is, a scalar as one sample without
 * labels. Throws PrometheusQueryError when Prometheus refused the query.
 */
export function parseInstantQuery(promql: string, httpStatus: number, body: string): Sample[] {
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch (error) {
    throw new Error(
      `Prometheus answered ${promql} with HTTP ${httpStatus} and no JSON: ${body.slice(0, 300)}`,
      {
        cause: error,
      },
    );
  }
  const reply = answer as {
    status?: string;
    errorType?: string;
    error?: string;
    data?: { resultType?: string; result?: unknown };
  };
  if (reply.status !== "success") {
    throw new PrometheusQueryError(
      reply.errorType ?? "unknown",
      `Prometheus refused ${promql} (HTTP ${httpStatus}, ${reply.errorType ?? "unknown"}): ${reply.error ?? body.slice(0, 300)}`,
    );
  }
  const resultType = reply.data?.resultType;
  if (resultType === "vector") {
    const result = reply.data?.result as { metric: Record<string, string>; value: [number, string] }[];
    return result.map((entry) => ({
      metric: entry.metric,
      timestamp: entry.value[0],
      value: sampleValue(entry.value[1]),
    }));
  }
  if (resultType === "scalar") {
    const [timestamp, text] = reply.data?.result as [number, string];
    return [{ metric: {}, timestamp, value: sampleValue(text) }];
  }
  throw new Error(`${promql} gave a ${resultType ?? "missing"} result where an instant vector was expected`);
}
