"""Every ORM table; importing this package registers them all on `Base.metadata`."""

from photochanger.models.app_setting import AppSetting
from photochanger.models.audit_log import AuditLog
from photochanger.models.base import Base
from photochanger.models.booth_refusal import BoothRefusal
from photochanger.models.cluster import ClusterNode, PermitLease
from photochanger.models.event import Event, EventEngagement, EventPhoto, EventSlot
from photochanger.models.job import Job, JobSource, JobStatus
from photochanger.models.job_stat import (
    JobStatDaily,
    JobStatDailyDuration,
    JobStatDailyDurationAll,
    JobStatHourly,
    JobStatHourlyDuration,
    JobStatHourlyDurationAll,
)
from photochanger.models.login_attempt import LoginAttempt
from photochanger.models.media_object import MediaObject
from photochanger.models.provider_key import KeyStatus, ProviderKey
from photochanger.models.provider_setting import ProviderSetting
from photochanger.models.provider_usage import ProviderUsageDaily
from photochanger.models.refresh_token import RefreshToken
from photochanger.models.slot import Slot
from photochanger.models.slot_branding import SlotBranding
from photochanger.models.slot_engagement import SlotEngagement
from photochanger.models.user import User
from photochanger.models.webhook_delivery import WebhookDelivery

__all__ = [
    "AppSetting",
    "AuditLog",
    "Base",
    "BoothRefusal",
    "ClusterNode",
    "Event",
    "EventEngagement",
    "EventPhoto",
    "EventSlot",
    "Job",
    "JobSource",
    "JobStatDaily",
    "JobStatDailyDuration",
    "JobStatDailyDurationAll",
    "JobStatHourly",
    "JobStatHourlyDuration",
    "JobStatHourlyDurationAll",
    "JobStatus",
    "KeyStatus",
    "LoginAttempt",
    "MediaObject",
    "PermitLease",
    "ProviderKey",
    "ProviderSetting",
    "ProviderUsageDaily",
    "RefreshToken",
    "Slot",
    "SlotBranding",
    "SlotEngagement",
    "User",
    "WebhookDelivery",
]
