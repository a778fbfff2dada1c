"""Typed callback context: handlers reach services as `context.services`."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.services.context import Services


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with our services attached (PTB's context-types pattern)."""

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services


def attach_services(app: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    app.bot_data["services"] = services
