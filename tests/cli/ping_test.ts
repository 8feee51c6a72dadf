import { assert } from "../deps.ts";
import { parsePingUrl, pingUrl } from "../../src/cli/ping.ts";

Deno.test("pings go to URL/start, URL and URL/fail, with the query kept", () => {
  const base = parsePingUrl("https://hc-ping.com/abc/");
  assert.equal(pingUrl(base, "start").href, "https://hc-ping.com/abc/start");
  assert.equal(pingUrl(base, "success").href, "https://hc-ping.com/abc/");
  assert.equal(pingUrl(base, "fail").href, "https://hc-ping.com/abc/fail");
  const query = parsePingUrl("http://127.0.0.1:8000/ping/x?rid=1");
  assert.equal(pingUrl(query, "fail").href, "http://127.0.0.1:8000/ping/x/fail?rid=1");
});

Deno.test("a ping URL must be http or https", () => {
  assert.throws(() => parsePingUrl("hc-ping.com/abc"), /is not a URL/);
  assert.throws(() => parsePingUrl("file:///etc/passwd"), /only http:\/\/ and https:\/\//);
});
