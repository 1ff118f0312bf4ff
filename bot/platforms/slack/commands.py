"""`/vendorwatch` and the alert buttons on bolt's AsyncApp, for HTTP and Socket Mode alike.

Slash command: the text becomes a neutral `Request` for the command core, through the contract's
`answer_in_time` with a 2.5 s deadline: a quick answer is the ack's body (ephemeral, or
in_channel when `Reply.ephemeral` is False); a slow one is acked with "working on it" and
answered through the `response_url`. Before the core, two Slack checks:
- SLACK_ADMINS_ONLY=1: `watch` and `unwatch` only for workspace admins and owners (users.info);
- `watch` in a channel the bot is not in: it joins a public channel itself (conversations.join),
  else it answers how to invite it.

Buttons (rendered only for messages that carry actions): "open article" is a link button, acked
and nothing more; "mute this story" and "not relevant" call bot.feedback with the story id from
the button's value ("story:42") and answer the clicker ephemerally.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.messages import Reply, Request
from bot.platforms.contract import SORRY, answer_in_time
from bot.platforms.slack.render import ACTION_IDS, render_reply

if TYPE_CHECKING:
    from bot.platforms.slack.adapter import SlackPlatform

log = logging.getLogger("vendorwatch.slack.commands")

WORKING = Reply(text="Working on it\u2026")
CHANGES_SUBSCRIPTIONS = {"watch", "unwatch"}
ADMINS_ONLY = Reply(text="Only workspace admins and owners can change this channel's subscriptions here.",
                    is_error=True)


def response_body(reply: Reply) -> dict[str, Any]:
    """A reply as a slash-command response: ephemeral unless the reply is public."""
    public = not reply.ephemeral and not reply.is_error
    return {"response_type": "in_channel" if public else "ephemeral", **render_reply(reply)}


def register_handlers(platform: SlackPlatform) -> None:
    app = platform.app

    @app.command(re.compile(r"^/vendorwatch"))
    async def on_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        request = Request(platform="slack", channel_id=str(body.get("channel_id", "")), text=str(body.get("text", "")),
                          user=str(body.get("user_id", "")), workspace=body.get("team_id"),
                          channel_name=body.get("channel_name"))

        async def now(reply: Reply) -> None:
            await ack(**response_body(reply))

        async def acknowledge(_reply: Reply | None) -> None:
            await ack(**response_body(WORKING))

        async def later(reply: Reply) -> None:
            body_ = response_body(reply)
            await respond(text=body_["text"], blocks=body_["blocks"], response_type=body_["response_type"],
                          replace_original=False)

        await answer_in_time(lambda req: guarded(platform, req), request, deadline=platform.command_deadline,
                             answer_now=now, acknowledge=acknowledge, answer_later=later)

    @app.action(re.compile(r"^vendorwatch_open"))
    async def on_open(ack: Any) -> None:
        await ack()

    for kind in ("mute", "not_relevant"):
        app.action(re.compile(rf"^{ACTION_IDS[kind]}(:|$)"))(_feedback_handler(platform, kind))


async def guarded(platform: SlackPlatform, request: Request) -> Reply:
    """The Slack checks before the core: who may change subscriptions, and is the bot in the channel."""
    if platform.handle is None:
        return SORRY
    verb = request.text.strip().split(" ", 1)[0].lower()
    if verb in CHANGES_SUBSCRIPTIONS and platform.admins_only and not await is_admin(platform, request.user):
        return ADMINS_ONLY
    if verb == "watch":
        problem = await ensure_member(platform, request.channel_id)
        if problem is not None:
            return Reply(text=problem, is_error=True)
    return await platform.handle(request)


async def is_admin(platform: SlackPlatform, user_id: str) -> bool:
    try:
        found = await platform.client.users_info(user=user_id)
    except SlackApiError as exc:
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return False
    user = found.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


async def ensure_member(platform: SlackPlatform, channel_id: str) -> str | None:
    """None when the bot is (now) in the channel; else what the user should do."""
    invite = ("I'm not in this channel yet, so I could not post alerts here. Invite me with "
              "`/invite @vendorwatch`, then run the command again.")
    try:
        info = (await platform.client.conversations_info(channel=channel_id)).get("channel") or {}
    except SlackApiError as exc:
        code = exc.response.get("error")
        if code == "channel_not_found":  # a private channel the bot is not in, or a DM
            return invite
        log.warning("conversations.info failed for %s: %s", channel_id, code)
        return None  # let the core answer; the outbox reports a channel it cannot post to
    if info.get("is_member") or info.get("is_im"):
        return None
    if info.get("is_archived"):
        return "This channel is archived: alerts cannot be posted here."
    if info.get("is_private"):
        return invite
    try:
        await platform.client.conversations_join(channel=channel_id)
        log.info("joined channel %s", channel_id, extra={"platform": "slack", "channel": channel_id})
        return None
    except SlackApiError as exc:
        log.warning("conversations.join failed for %s: %s", channel_id, exc.response.get("error"))
        return invite


def _feedback_handler(platform: SlackPlatform, kind: str) -> Any:
    async def on_feedback(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        reply = await feedback(platform, kind, body, action)
        payload = response_body(Reply(text=reply.text, message=reply.message, is_error=reply.is_error))
        await respond(text=payload["text"], blocks=payload["blocks"], response_type="ephemeral",
                      replace_original=False)

    return on_feedback


async def feedback(platform: SlackPlatform, kind: str, body: dict[str, Any], action: dict[str, Any]) -> Reply:
    """Mute the story or mark it not relevant, through the core's feedback module."""
    match = re.fullmatch(r"story:(\d+)", str(action.get("value", "")))
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    user = (body.get("user") or {}).get("id", "")
    if match is None or not channel_id:
        return Reply(text="That button is no longer valid.", is_error=True)
    if kind == "mute" and platform.admins_only and not await is_admin(platform, user):
        return ADMINS_ONLY
    try:
        from bot import feedback as core_feedback  # lands with the feedback work; see the module docstring
    except ImportError:
        return Reply(text="Feedback buttons are not available in this build.", is_error=True)
    handler = core_feedback.mute_story if kind == "mute" else core_feedback.mark_not_relevant
    try:
        return await handler(platform.engine, platform="slack", channel_id=channel_id, story_id=int(match.group(1)),
                             user=user)
    except Exception:  # noqa: BLE001 - the clicker gets a short apology, the log the details
        log.exception("feedback %s failed", kind, extra={"platform": "slack", "channel": channel_id})
        return SORRY
