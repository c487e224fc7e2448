import type { Robot } from '../channel-config.ts';
import { permanent, retry, type Channel } from './channel.ts';
import { postJson, robotAnswer } from './http.ts';
import { robotMarkdown } from './robot-markdown.ts';

/** WeCom's answer codes worth another try: system busy (-1), API frequency over the limit (45009, 20 a minute per robot). */
const RETRYABLE = new Set([-1, 45009]);

/**
 * A WeCom (企业微信) group robot: markdown message (content at most 4096 bytes) POSTed to the robot's
 * webhook URL (`…/cgi-bin/webhook/send?key=…`; the key is its only credential). WeCom answers
 * `{errcode, errmsg}`: 0 delivered; -1 and 45009 tried again; any other (93000 bad key, …) fails at once.
 */
export function createWecomChannel(options: {
  robots: readonly Robot[];
  timeoutMs: number;
  publicUrl?: string;
}): Channel {
  const robots = new Map(options.robots.filter((r) => r.kind === 'wecom').map((r) => [r.id, r]));
  return {
    async send(d) {
      const robot = robots.get(d.target);
      if (!robot) return permanent(`WeCom robot "${d.target}" is not configured`);
      if (robot.customerId !== null && d.customer_id !== null && robot.customerId !== d.customer_id)
        return permanent(`WeCom robot "${d.target}" belongs to another customer unit`);
      const body = JSON.stringify({
        msgtype: 'markdown',
        markdown: { content: robotMarkdown(d, options.publicUrl, 4096) },
      });
      return postJson(robot.url, body, {}, options.timeoutMs, (a) => {
        if (a.status < 200 || a.status >= 300) return retry(`HTTP ${a.status}`);
        const r = robotAnswer(a);
        if (!r) return retry('WeCom answered without an errcode');
        if (r.errcode === 0) return { ok: true };
        const error = `WeCom errcode ${r.errcode}: ${r.errmsg}`;
        return RETRYABLE.has(r.errcode) ? retry(error, r.errcode === 45009 ? 60_000 : undefined) : permanent(error);
      });
    },
  };
}
