import { describe, expect, it } from "vitest";
import { parseRemoteUrl } from "./parse-remote-url.ts";

describe("parseRemoteUrl", () => {
  it.each([
    ["https://github.com/octo/hello.git", "octo", "hello", false],
    ["https://github.com/octo/hello", "octo", "hello", false],
    ["https://github.com/octo/hello/", "octo", "hello", false],
    ["https://token:x@github.com/octo/hello.git", "octo", "hello", false],
    ["http://ghe.example.test/org/tool.git", "org", "tool", false],
    ["git@github.com:octo/hello.git", "octo", "hello", false],
    ["github.com:octo/hello", "octo", "hello", false],
    ["ssh://git@example.test:2222/team/tool.git", "team", "tool", false],
    ["git://example.test/team/tool", "team", "tool", false],
    ["https://gitlab.example.test/group/sub/proj.git", "sub", "proj", false],
    ["/srv/git/project.git", "local", "project", true],
    ["../sibling/", "local", "sibling", true],
    ["file:///srv/git/project.git", "local", "project", true],
    ["C:\\repos\\thing", "local", "thing", true],
  ])("reads %s as %s/%s", (url, owner, name, local) => {
    expect(parseRemoteUrl(url)).toEqual({ owner, name, local });
  });

  it("gives nothing for an empty URL or a host without a path", () => {
    expect(parseRemoteUrl("")).toBeUndefined();
    expect(parseRemoteUrl("https://github.com/")).toBeUndefined();
    expect(parseRemoteUrl("https://github.com/only-owner")).toBeUndefined();
  });

  it("replaces characters GitHub does not allow in names", () => {
    expect(parseRemoteUrl("https://example.test/o%20x/my%24repo.git")).toEqual({
      owner: "o-x",
      name: "my-repo",
      local: false,
    });
  });
});
