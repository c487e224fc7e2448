import type { Robot } from '../channel-config.ts';
import { dingtalkSignedUrl } from '../webhook-signature.ts';
import { permanent, retry, type Channel } from './channel.ts';
import { postJson, robotAnswer } from './http.ts';
import { robotMarkdown } from './robot-markdown.ts';

/** DingTalk's answer codes worth another try: send too fast (20 a minute per robot, then 10 min blocked), busy. */
const RETRYABLE = new Set([130101, -1]);
/** Blocked for 10 minutes after the rate limit. */
const RATE_LIMIT_MS = 10 * 60_000;

/**
 * A DingTalk custom group robot (自定义机器人), markdown message, with the signed URL (加签) when the
 * robot has a secret. DingTalk answers HTTP 200 with `{errcode, errmsg}`: 0 is delivered, 130101
 * (rate limit) and -1 (busy) are tried again, any other code (a wrong signature or keyword 310000,
 * a bad token 300001, …) fails at once.
 */
export function createDingtalkChannel(options: {
  robots: readonly Robot[];
  timeoutMs: number;
  publicUrl?: string;
  now?: () => number;
}): Channel {
  const robots = new Map(options.robots.filter((r) => r.kind === 'dingtalk').map((r) => [r.id, r]));
  const now = options.now ?? Date.now;
  return {
    async send(d) {
      const robot = robots.get(d.target);
      if (!robot) return permanent(`DingTalk robot "${d.target}" is not configured`);
      if (robot.customerId !== null && d.customer_id !== null && robot.customerId !== d.customer_id)
        return permanent(`DingTalk robot "${d.target}" belongs to another customer unit`);
      const url = robot.secret ? dingtalkSignedUrl(robot.url, robot.secret, now()) : robot.url;
      const body = JSON.stringify({
        msgtype: 'markdown',
        markdown: { title: d.subject.slice(0, 64), text: robotMarkdown(d, options.publicUrl, 18_000) },
      });
      return postJson(url, body, {}, options.timeoutMs, (a) => {
        if (a.status < 200 || a.status >= 300) return retry(`HTTP ${a.status}`);
        const r = robotAnswer(a);
        if (!r) return retry('DingTalk answered without an errcode');
        if (r.errcode === 0) return { ok: true };
        const error = `DingTalk errcode ${r.errcode}: ${r.errmsg}`;
        if (RETRYABLE.has(r.errcode)) return retry(error, r.errcode === 130101 ? RATE_LIMIT_MS : undefined);
        return permanent(error);
      });
    },
  };
}
