import { IM_END, IM_START } from "./tokenizer.js";

/**
 * The sim's chat template, ChatML-like. /apply-template and chat requests share it, so the prompt a
 * client renders through /apply-template is exactly the prompt a chat request is evaluated on.
 */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface TemplateMessage {
  role: string;
  content?: unknown;
}

export function renderChat(messages: readonly TemplateMessage[], addGenerationPrompt = true): string {
  let prompt = "";
  for (const message of messages) {
    prompt += `${IM_START}${message.role}\n${contentText(message.content)}${IM_END}\n`;
  }
  return addGenerationPrompt ? `${prompt}${IM_START}assistant\n` : prompt;
}

/** Text of a message: a string, or the text parts of a content array (other parts have no text). */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: unknown) =>
      typeof part === "object" && part !== null && "text" in part && typeof part.text === "string"
        ? part.text
        : "",
    )
    .join("");
}
