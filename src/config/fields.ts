import { z } from "zod";

/** Field types several config sections share. */
export const regionCode = z
  .string()
  .regex(/^[a-z0-9-]+$/i, "must be a region code such as 'fra' or 'eu-west-1'")
  .transform((code) => code.toLowerCase());
export const latitude = z.number().min(-90).max(90);
export const longitude = z.number().min(-180).max(180);
