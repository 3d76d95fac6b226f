import { z } from "zod";

const modelName = z.string().min(1);

/**
 * Model names apps hard-code: `aliases` maps a name (`gpt-4o-mini`) to a model the fleet serves;
 * `default`, opt-in, stands in for any name no node serves (and for a request that names none).
 */
export const modelsSchema = z
  .strictObject({
    aliases: z.record(modelName, modelName).default({}),
    default: modelName.optional(),
  })
  .superRefine((models, ctx) => {
    for (const [alias, target] of Object.entries(models.aliases)) {
      if (alias === target)
        ctx.addIssue({ code: "custom", message: "an alias of itself", path: ["aliases", alias] });
      else if (models.aliases[target] !== undefined) {
        ctx.addIssue({
          code: "custom",
          message: `'${target}' is itself an alias: name the served model`,
          path: ["aliases", alias],
        });
      }
    }
  });
