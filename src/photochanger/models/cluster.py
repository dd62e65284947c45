"""Cluster membership and concurrency leases (PostgreSQL deployments with several processes or nodes)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class ClusterNode(Base):
    """One running app process; alive while `expires_at` (database clock) is in the future."""

    __tablename__ = "cluster_node"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class PermitLease(Base):
    """One job's slot, provider and global permit, valid while its node is alive."""

    __tablename__ = "permit_lease"
    __table_args__ = (Index("ix_permit_lease_owner", "owner"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(
        String(64), ForeignKey("cluster_node.owner", ondelete="CASCADE"), nullable=False
    )
    slot_id: Mapped[str] = mapped_column(String(64), nullable=False)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
