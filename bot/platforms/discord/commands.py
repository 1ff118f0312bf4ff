"""`/vendorwatch` as a Discord app-command group, its autocomplete, and the alert buttons.

Each subcommand turns its options into the command text the core parses (`watch "Scale AI"
funding`) and answers through the contract's `answer_in_time`: within `command_deadline` the
answer is the interaction's response; later, the interaction is deferred ("thinking...") and the
answer is the follow-up. Errors and help are ephemeral; a successful `watch` is posted in the
channel (and so is any reply the core marks public).

Permissions: Discord sets default member permissions per top-level command only, not per
subcommand, and `list`, `lookup`, `help` are for everyone; so the group carries none and
`watch`/`unwatch` check Manage Channels on the server side (the interaction's member
permissions) before the core runs.

Buttons are persistent: a `DynamicItem` routes every custom id `vw:<kind>:<value>` (kinds mute,
not_relevant; value "story:42"), whatever message it is on and across restarts, to the core's
feedback module (bot.feedback), shared with Slack.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any, Optional

import discord
from discord import app_commands

from bot.commands.parsing import event_type_of
from bot.messages import Reply, Request
from bot.platforms.contract import SORRY, answer_in_time
from bot.platforms.discord.render import render_reply
from watchers.models import EVENT_TYPES

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordPlatform

log = logging.getLogger("vendorwatch.discord")

COMMAND_DEADLINE_SECONDS = 2.0  # Discord allows 3 s; the rest is for the response's round trip
DIRECTORY_REFRESH_SECONDS = 10.0
MAX_CHOICES = 25
NEEDS_MANAGE = "Changing this channel's subscriptions needs the Manage Channels permission."


def _quoted(text: str) -> str:
    return '"' + " ".join(str(text).replace('"', "").split()) + '"'


def build_tree(client: discord.Client, platform: "DiscordPlatform") -> app_commands.CommandTree:
    tree = app_commands.CommandTree(client)
    group = app_commands.Group(name="vendorwatch", description="Company news alerts for this channel",
                               guild_only=True)

    @group.command(name="watch", description="Post this company's news in this channel")
    @app_commands.describe(company="A tracked company (name, alias or slug), or: new NAME aka ALIASES",
                           types="Only these event types, e.g. funding leadership_change (all when empty)")
    async def watch(interaction: discord.Interaction, company: str, types: Optional[str] = None) -> None:
        new = company.strip().lower().startswith("new ")  # `new NAME aka ALIASES`: a company added from chat
        wanted = " ".join((types or "").replace(",", " ").split())
        text = f"watch {' '.join(company.split()) if new else _quoted(company)}" + (f" {wanted}" if wanted else "")
        await run_command(platform, interaction, text, manage=True, public_success=True)

    @group.command(name="unwatch", description="Stop posting this company's news here")
    @app_commands.describe(company="A company this channel watches")
    async def unwatch(interaction: discord.Interaction, company: str) -> None:
        await run_command(platform, interaction, f"unwatch {_quoted(company)}", manage=True)

    @group.command(name="list", description="What this channel watches")
    async def list_(interaction: discord.Interaction) -> None:
        await run_command(platform, interaction, "list")

    @group.command(name="lookup", description="A company's recent events")
    @app_commands.describe(company="A tracked company")
    async def lookup(interaction: discord.Interaction, company: str) -> None:
        await run_command(platform, interaction, f"lookup {_quoted(company)}")

    @group.command(name="digest", description="This week's digest for this channel")
    async def digest(interaction: discord.Interaction) -> None:
        await run_command(platform, interaction, "digest")

    @group.command(name="why", description="Why an article was (or was not) posted here")
    @app_commands.describe(query="The article's link or headline")
    async def why(interaction: discord.Interaction, query: str) -> None:
        await run_command(platform, interaction, f"why {query}")

    @group.command(name="help", description="How to use Vendorwatch")
    async def help_(interaction: discord.Interaction) -> None:
        await run_command(platform, interaction, "help")

    async def company_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await company_choices(platform, current)

    async def types_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return type_choices(current)

    for command in (watch, unwatch, lookup):
        command.autocomplete("company")(company_autocomplete)
    watch.autocomplete("types")(types_autocomplete)
    tree.add_command(group)
    return tree


async def sync(client: discord.Client, guild_id: str | int | None) -> None:
    """Register the commands: in one guild at once (development), else globally (up to an hour)."""
    tree: app_commands.CommandTree = client.tree  # type: ignore[attr-defined]
    try:
        if guild_id:
            guild = discord.Object(id=int(guild_id))
            tree.copy_global_to(guild=guild)
            synced = await asyncio.wait_for(tree.sync(guild=guild), 10)
            log.info("synced %d command(s) to guild %s", len(synced), guild_id)
        else:
            synced = await asyncio.wait_for(tree.sync(), 10)
            log.info("synced %d command(s) globally", len(synced))
    except discord.Forbidden:
        log.error("cannot sync /vendorwatch: the bot was not invited with the applications.commands scope "
                  "(or is not in guild %s)", guild_id)
    except (discord.HTTPException, asyncio.TimeoutError, OSError) as exc:
        log.error("cannot sync /vendorwatch now: %s", exc)


def _request(interaction: discord.Interaction, text: str) -> Request:
    channel = interaction.channel
    return Request(platform="discord", channel_id=str(interaction.channel_id), text=text,
                   user=str(interaction.user.id), workspace=str(interaction.guild_id) if interaction.guild_id else None,
                   channel_name=getattr(channel, "name", None))


def _kwargs(reply: Reply, *, ephemeral: bool) -> dict[str, Any]:
    payload = render_reply(reply)
    kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none(), "ephemeral": ephemeral}
    if payload.get("content"):
        kwargs["content"] = payload["content"]
    if payload.get("embeds"):
        kwargs["embeds"] = [discord.Embed.from_dict(e) for e in payload["embeds"]]
    if reply.message is not None and reply.message.attachments:
        import io

        from bot.platforms.discord.render import attachment_name
        kwargs["files"] = [discord.File(io.BytesIO(a.data), filename=attachment_name(a.filename))
                           for a in reply.message.attachments]
    view = view_of(payload.get("components") or [])
    if view is not None:
        kwargs["view"] = view
    return kwargs


async def run_command(platform: "DiscordPlatform", interaction: discord.Interaction, text: str, *,
                      manage: bool = False, public_success: bool = False) -> Reply:
    if manage and not interaction.permissions.manage_channels:
        reply = Reply(text=NEEDS_MANAGE, is_error=True)
        await interaction.response.send_message(**_kwargs(reply, ephemeral=True))
        platform.answered("now", reply)
        return reply
    handler = getattr(platform.commands, "handle", platform.commands)
    if handler is None:
        handler = _no_core
    deferred_ephemeral = not public_success

    def is_public(reply: Reply) -> bool:
        return not reply.is_error and (not reply.ephemeral or public_success)

    async def now(reply: Reply) -> None:
        await interaction.response.send_message(**_kwargs(reply, ephemeral=not is_public(reply)))
        platform.answered("now", reply)

    async def ack(_: Reply | None) -> None:
        await interaction.response.defer(thinking=True, ephemeral=deferred_ephemeral)
        platform.answered("ack", None)

    async def later(reply: Reply) -> None:
        public = is_public(reply)
        if public and deferred_ephemeral:
            await interaction.edit_original_response(content="Posted in the channel.")
        elif not public and not deferred_ephemeral:
            await interaction.delete_original_response()
        await interaction.followup.send(**_kwargs(reply, ephemeral=not public))
        platform.answered("later", reply)

    try:
        return await answer_in_time(handler, _request(interaction, text), deadline=platform.command_deadline,
                                    answer_now=now, acknowledge=ack, answer_later=later)
    except discord.HTTPException as exc:
        log.warning("could not answer /vendorwatch %s: %s", text.split(" ", 1)[0], exc)
        return SORRY


async def _no_core(request: Request) -> Reply:
    return Reply(text="Commands are not available on this replica.", is_error=True)


# Autocomplete

def type_choices(current: str) -> list[app_commands.Choice[str]]:
    """The types typed so far, each completed by one more: `funding lea` offers `funding leadership_change`.

    Discord's choices take one value, and `watch COMPANY [TYPES...]` takes several, so the option is
    text, completed here; the command core reads it as typed (commas or spaces, friendly spellings).
    """
    words = current.replace(",", " ").split()
    partial = "" if not words or current[-1:] in (" ", ",") else words.pop()
    chosen = list(dict.fromkeys(kind for kind in map(event_type_of, words) if kind))
    offered = [kind for kind in EVENT_TYPES if kind not in chosen
               and (kind.startswith(partial.lower()) or event_type_of(partial) == kind)]
    choices = [" ".join([*chosen, kind]) for kind in offered] or ([" ".join(chosen)] if chosen else [])
    return [app_commands.Choice(name=value.replace("_", " ")[:100], value=value[:100]) for value in choices]


async def company_choices(platform: "DiscordPlatform", current: str) -> list[app_commands.Choice[str]]:
    """Companies whose slug, name or alias starts with (then resembles) what was typed, chat-added ones too."""
    directory = getattr(platform.commands, "directory", None)
    if directory is None:
        return []
    await _refresh(platform, directory)
    wanted = " ".join(current.split()).casefold()
    found = []
    for company in sorted(directory.companies(), key=lambda c: c.name.casefold()):
        names = (company.slug, company.name, *company.aliases)
        if not wanted or any(n.casefold().startswith(wanted) for n in names):
            found.append(company)
    if wanted and len(found) < MAX_CHOICES:
        try:
            found += [c for c in directory.suggest(current, limit=MAX_CHOICES) if c not in found]
        except Exception:  # noqa: BLE001 - the prefix matches are answer enough
            log.warning("company suggestions failed for autocomplete", exc_info=True)
    return [app_commands.Choice(name=f"{c.name} ({c.slug})"[:100], value=c.slug) for c in found[:MAX_CHOICES]]


async def _refresh(platform: "DiscordPlatform", directory: Any) -> None:
    """Companies added from chat (here or on another replica), read again every few seconds."""
    engine = getattr(platform.commands, "engine", None) or platform.engine
    fresh = directory.refreshed_at is not None and time.monotonic() - directory.refreshed_at < DIRECTORY_REFRESH_SECONDS
    if engine is None or fresh:
        return
    from sqlmodel.ext.asyncio.session import AsyncSession

    try:
        async with AsyncSession(engine) as session:
            await asyncio.wait_for(directory.refresh(session), 1.0)
    except Exception:  # noqa: BLE001 - autocomplete answers from what it has
        log.warning("could not read the companies added from chat", exc_info=True)


# Buttons

def view_of(rows: list[dict[str, Any]]) -> discord.ui.View | None:
    """A view with the rendered buttons (render.components), for sending."""
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for button in rows[0]["components"]:
        if "url" in button:
            view.add_item(discord.ui.Button(style=discord.ButtonStyle.link, label=button["label"], url=button["url"]))
        else:
            view.add_item(discord.ui.Button(style=discord.ButtonStyle(button["style"]), label=button["label"],
                                            custom_id=button["custom_id"]))
    return view


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button], template=r"vw:(?P<kind>mute|not_relevant):(?P<value>.+)"):
    def __init__(self, kind: str, value: str) -> None:
        super().__init__(discord.ui.Button(label=kind, custom_id=f"vw:{kind}:{value}"))
        self.kind = kind
        self.value = value

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> "FeedbackButton":
        return cls(match["kind"], match["value"])

    async def callback(self, interaction: discord.Interaction) -> None:
        platform = interaction.client.platform  # type: ignore[attr-defined]
        await handle_button(platform, interaction, self.kind, self.value)


def install_buttons(client: discord.Client, platform: "DiscordPlatform") -> None:
    client.add_dynamic_items(FeedbackButton)


async def handle_button(platform: "DiscordPlatform", interaction: discord.Interaction, kind: str, value: str) -> Reply:
    channel = interaction.channel
    channel_id = str(getattr(channel, "parent_id", None) or interaction.channel_id) \
        if isinstance(channel, discord.Thread) else str(interaction.channel_id)
    found = re.fullmatch(r"story:(\d+)", value)

    async def handle(_: Request) -> Reply:
        if found is None:
            return Reply(text="This button no longer works.", is_error=True)
        try:
            from bot import feedback  # the core's feedback store, shared with Slack
        except ImportError:
            return Reply(text="Feedback is not available in this version.", is_error=True)
        act = feedback.mute_story if kind == "mute" else feedback.mark_not_relevant
        return await act(platform.engine, platform="discord", channel_id=channel_id, story_id=int(found[1]),
                         user=str(interaction.user.id))

    async def now(reply: Reply) -> None:
        await interaction.response.send_message(**_kwargs(reply, ephemeral=True))
        platform.answered("now", reply)

    async def ack(_: Reply | None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        platform.answered("ack", None)

    async def later(reply: Reply) -> None:
        await interaction.followup.send(**_kwargs(reply, ephemeral=True))
        platform.answered("later", reply)

    request = Request(platform="discord", channel_id=channel_id, text=f"{kind} {value}", user=str(interaction.user.id))
    return await answer_in_time(handle, request, deadline=platform.command_deadline, answer_now=now,
                                acknowledge=ack, answer_later=later)
