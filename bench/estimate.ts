// Run by hand: CPU cost of the prompt estimate per request (npx tsx bench/estimate.ts).
import { estimateChatTokens } from "../src/accounting/index.js";

const sentence = "The quick brown fox jumps over the lazy dog while the gateway counts its tokens. ";
for (const words of [50, 500, 4000]) {
  const messages = [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: sentence.repeat(Math.ceil(words / 15)) },
  ];
  estimateChatTokens(messages);
  const runs = 2000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) estimateChatTokens(messages);
  const us = Number(process.hrtime.bigint() - started) / 1000 / runs;
  console.log(`${words} words: ${estimateChatTokens(messages)} tokens, ${us.toFixed(1)} us per request`);
}
