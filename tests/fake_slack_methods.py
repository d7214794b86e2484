"""The Web API methods the fake Slack answers (``auth.test``, ``users.*``, ``conversations.*``, ``chat.*``,
``views.*``, ``files.*``, ``oauth.v2.access``, ``apps.connections.open``) and the conversations they open.

``SlackMethods`` is a part of ``FakeSlack`` (``tests/fake_slack_server.py``): the server finds the method
``_m_<method with dots as underscores>`` for each call and answers ``{"ok": true, **what it returns}``;
a method returning ``"ok": False`` answers that error instead. The state it reads and changes is set up by
``FakeSlack``.
"""

from __future__ import annotations

import base64
import itertools
import time
from typing import Any


class SlackMethods:
    """The fake's Web API methods, over the workspace state ``FakeSlack`` keeps."""

    users: dict[str, dict[str, Any]]
    tokens: dict[str, str]
    bot_user: str
    install: dict[str, Any]
    record_bodies: bool
    unreachable: dict[str, str]
    messages: dict[str, list[dict[str, Any]]]
    views: list[dict[str, Any]]
    uploads: dict[str, bytes]
    post_keys: list[str]
    refreshable: dict[str, str]
    refreshed: list[str]
    refreshed_expires_in: int
    base: str
    port: int
    _ids: itertools.count[int]
    _channels: dict[frozenset[str], str]

    # -- conversations ---------------------------------------------------------------------------------

    def landed_in(self, channel: str) -> str:
        """Where a post to ``channel`` went: a user id (``U…``, ``W…``) posted to is the bot's DM with them."""
        return self._channels.get(frozenset({channel}), channel) if channel[:1] in ("U", "W") else channel

    def dm_channel(self, *users: str) -> str:
        """The id of the conversation opened with ``users`` (``conversations.open``), "" if none was."""
        return self._channels.get(frozenset(users), "")

    def group_dm(self, *users: str) -> str:
        """The id of the group DM of ``users`` and the bot (as ``conversations.open`` would give it)."""
        people = frozenset(users)
        if people not in self._channels:
            self._channels[people] = self._new_id("G")
        return self._channels[people]

    def _members(self, channel: str) -> list[str] | None:
        found = [users for users, opened in self._channels.items() if opened == channel]
        return sorted(found[0]) + [self.bot_user] if found else None

    def _conversation(self, channel: str) -> str:
        """The conversation a post to ``channel`` lands in. As on Slack, a user id (``U…``, ``W…``) as the channel
        of ``chat.postMessage`` is the bot's DM with that user (the App Home's Messages tab), opened if need be."""
        if channel[:1] not in ("U", "W") or channel in self.unreachable:
            return channel
        people = frozenset({channel})
        if people not in self._channels:
            self._channels[people] = self._new_id("D")
        return self._channels[people]

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    # -- the methods -----------------------------------------------------------------------------------

    def _m_auth_test(self, _args: dict[str, Any], team: str) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "rmbot",
            "team_id": team,
            "user_id": self.bot_user,
            "bot_id": "B111",
        }

    def _m_users_info(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        return {"user": user} if user else {"ok": False, "error": "user_not_found"}

    def _m_users_lookupByEmail(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        for user in self.users.values():
            if user.get("profile", {}).get("email", "").lower() == str(args.get("email", "")).lower():
                return {"user": user}
        return {"ok": False, "error": "users_not_found"}

    def _m_users_list(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        """``users`` in order, ``limit`` a page (at most 1000), paged by an opaque ``next_cursor`` as Slack does."""
        ids = list(self.users)
        start = 0
        if args.get("cursor"):
            try:
                start = ids.index(base64.b64decode(str(args["cursor"])).decode().removeprefix("user:"))
            except ValueError:
                return {"ok": False, "error": "invalid_cursor"}
        limit = min(int(args.get("limit") or 1000), 1000)
        page = ids[start : start + limit]
        more = ids[start + limit : start + limit + 1]
        cursor = base64.b64encode(f"user:{more[0]}".encode()).decode() if more else ""
        members = [self.users[user] for user in page]
        return {"members": members, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": cursor}}

    def _m_conversations_open(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        users = frozenset(u for u in str(args.get("users", "")).split(",") if u)
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if users not in self._channels:
            self._channels[users] = self._new_id("D" if len(users) == 1 else "G")
        return {"channel": {"id": self._channels[users]}}

    def _m_conversations_info(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        members = self._members(channel)
        if members is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"channel": {"id": channel, "is_im": len(members) == 2, "is_mpim": len(members) > 2}}

    def _m_conversations_members(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        members = self._members(str(args.get("channel", "")))
        if members is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def _m_chat_postMessage(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        channel = self._conversation(str(args.get("channel", "")))
        if channel in self.unreachable:
            return {"ok": False, "error": self.unreachable[channel]}
        ts = f"{time.time():.6f}"
        metadata = args.get("metadata") or {}
        self.post_keys.append(str((metadata.get("event_payload") or {}).get("key", "")))
        self.messages[channel].append(
            {
                "ts": ts,
                "text": None if not self.record_bodies else args.get("text"),
                "metadata": metadata,
                "blocks": args.get("blocks") if self.record_bodies else None,
            }
        )
        return {"channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    def _m_chat_update(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        """Changes a message posted before (its text, blocks and metadata as given); unknown: message_not_found."""
        found = next((m for m in self.messages.get(str(args.get("channel")), []) if m["ts"] == args.get("ts")), None)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        found.update({k: args[k] for k in ("text", "blocks", "metadata") if k in args and self.record_bodies})
        return {"channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}

    def _m_conversations_history(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        for bound in ("latest", "oldest"):  # as Slack answers a bound that is not a timestamp
            try:
                float(args.get(bound) or 0)
            except (TypeError, ValueError):
                return {"ok": False, "error": f"invalid_ts_{bound}"}
        kept = self.messages.get(str(args.get("channel")), [])
        inclusive = str(args.get("inclusive")).lower() in ("true", "1")
        if args.get("latest"):  # only messages up to ``latest`` (and from ``oldest``), ``inclusive`` of both ends
            latest = float(args["latest"])
            kept = [m for m in kept if float(m["ts"]) < latest or (inclusive and float(m["ts"]) == latest)]
        if args.get("oldest"):
            oldest = float(args["oldest"])
            kept = [m for m in kept if float(m["ts"]) > oldest or (inclusive and float(m["ts"]) == oldest)]
        posted = list(reversed(kept))[: int(args.get("limit", 100))]
        if str(args.get("include_all_metadata")).lower() not in ("true", "1"):
            posted = [{k: v for k, v in m.items() if k != "metadata"} for m in posted]
        return {"messages": posted, "has_more": False}

    def _m_views_open(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        if str(args.get("trigger_id", "")).startswith("expired"):
            return {"ok": False, "error": "expired_trigger_id"}
        self.views.append(args)
        return {"view": {"id": self._new_id("V"), **(args.get("view") or {})}}

    def _m_views_push(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        if str(args.get("trigger_id", "")).startswith("expired"):
            return {"ok": False, "error": "expired_trigger_id"}
        self.views.append(args)
        return {"view": {"id": self._new_id("V"), **(args.get("view") or {})}}

    def _m_views_publish(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        self.views.append(args)
        return {"view": {"id": self._new_id("V"), **(args.get("view") or {})}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        file_id = self._new_id("F")
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        files = args.get("files") or []
        return {
            "files": [
                {"id": f["id"], "title": f.get("title"), "size": len(self.uploads.get(f["id"], b""))} for f in files
            ]
        }

    def _m_oauth_v2_access(self, args: dict[str, Any], _team: str) -> dict[str, Any]:
        """An install (``install``: ``team``, ``token``, ``user``; ``enterprise`` {id, name} for Enterprise Grid,
        ``org_wide`` for an org-wide install, ``refresh_token`` and ``expires_in`` with token rotation), or a
        refresh of a rotating token (``grant_type=refresh_token``)."""
        if args.get("grant_type") == "refresh_token":
            return self._refresh(str(args.get("refresh_token", "")))
        org_wide = bool(self.install.get("org_wide"))
        enterprise: dict[str, str] | None = self.install.get("enterprise")
        team = self.install.get("team", "T_INSTALLED")
        token = self.install.get("token", "xoxb-installed")
        self.tokens[token] = enterprise["id"] if org_wide and enterprise else team
        answer = {
            "access_token": token,
            "token_type": "bot",
            "scope": "chat:write,commands",
            "bot_user_id": self.bot_user,
            "app_id": "A111",
            "team": None if org_wide else {"id": team, "name": self.install.get("team_name", "Installed Workspace")},
            "enterprise": enterprise,
            "is_enterprise_install": org_wide,
            "authed_user": {"id": self.install.get("user", "U_INSTALLER")},
        }
        if self.install.get("refresh_token"):
            self.refreshable[self.install["refresh_token"]] = self.tokens[token]
            answer.update(refresh_token=self.install["refresh_token"], expires_in=self.install.get("expires_in", 43200))
        return answer

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        """Token rotation: a new bot token (and refresh token) for a refresh token Slack gave out."""
        team = self.refreshable.get(refresh_token)
        if team is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        number = len(self.refreshed) + 1
        token, renewed = f"xoxe.xoxb-rotated-{number}", f"xoxe-1-refresh-{number}"
        self.tokens[token] = team
        self.refreshable[renewed] = team
        self.refreshed.append(token)
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": "chat:write,commands",
            "refresh_token": renewed,
            "expires_in": self.refreshed_expires_in,
            "team": {"id": team},
            "enterprise": None,
        }

    def _m_apps_connections_open(self, _args: dict[str, Any], _team: str) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/link"}
