import { type Attributes, type HrTime, ValueType } from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  type GaugeMetricData,
  type HistogramMetricData,
  type MetricDescriptor,
  type SumMetricData,
} from "@opentelemetry/sdk-metrics";

/**
 * Cumulative counters and histograms that the caller finds by a series key of its own. The SDK's
 * synchronous instruments hash every measurement's attributes (sorted, as JSON) to find its
 * series, about 2 µs a measurement and seven measurements a call; here a series is found by a
 * string the caller already has and only its first measurement builds attributes. The SDK still
 * does the rest: these become its MetricData at collection, for Prometheus and OTLP alike.
 */

export interface Descriptor {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

function descriptorOf(descriptor: Descriptor): MetricDescriptor {
  return { ...descriptor, valueType: ValueType.DOUBLE };
}

export class HistogramPoint {
  readonly counts: number[];
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(
    readonly attributes: Attributes,
    private readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  record(value: number): void {
    let bucket = 0;
    // Boundaries are inclusive upper bounds, as in OpenTelemetry and Prometheus' `le`.
    while (bucket < this.boundaries.length && value > (this.boundaries[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

export class HistogramFamily {
  private readonly series = new Map<string, HistogramPoint>();

  constructor(
    private readonly descriptor: Descriptor,
    private readonly boundaries: readonly number[],
  ) {}

  /** The series under `key`, opened with `attributes` the first time. */
  point(key: string, attributes: () => Attributes): HistogramPoint {
    let point = this.series.get(key);
    if (!point) {
      point = new HistogramPoint(attributes(), this.boundaries);
      this.series.set(key, point);
    }
    return point;
  }

  data(startTime: HrTime, endTime: HrTime): HistogramMetricData {
    return {
      descriptor: descriptorOf(this.descriptor),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [...this.series.values()].map((point) => ({
        startTime,
        endTime,
        attributes: point.attributes,
        value: {
          buckets: { boundaries: [...this.boundaries], counts: [...point.counts] },
          count: point.count,
          sum: point.sum,
          min: point.min,
          max: point.max,
        },
      })),
    };
  }
}

export class CounterFamily {
  private readonly series = new Map<string, { readonly attributes: Attributes; value: number }>();

  constructor(private readonly descriptor: Descriptor) {}

  add(key: string, attributes: () => Attributes, by = 1): void {
    const point = this.series.get(key);
    if (point) point.value += by;
    else this.series.set(key, { attributes: attributes(), value: by });
  }

  data(startTime: HrTime, endTime: HrTime): SumMetricData {
    return {
      descriptor: descriptorOf(this.descriptor),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [...this.series.values()].map(({ attributes, value }) => ({
        startTime,
        endTime,
        attributes,
        value,
      })),
    };
  }
}

/** A gauge's values as read now: nothing is kept between collections. */
export function gaugeData(
  descriptor: Descriptor,
  time: HrTime,
  points: readonly (readonly [number, Attributes])[],
): GaugeMetricData {
  return {
    descriptor: descriptorOf(descriptor),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map(([value, attributes]) => ({ startTime: time, endTime: time, attributes, value })),
  };
}
