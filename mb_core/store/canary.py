"""The canary's records: each build's variant, the samples of finished builds, the reports.

Over the same engine and transactions as `Store` (as `PlatformStore` is). A build's variant is
written once: a second assignment (a rerun, a second driver) gets the first one back, so a build
never changes variant. A build has one sample; writing it again (a build approved later and
released) replaces it in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, case, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from mb_core.canary.models import CanaryReport, CanarySample, VariantAssignment
from mb_core.canary.variants import Variant
from mb_core.store.canary_tables import build_variants, canary_reports, canary_samples
from mb_core.store.store import InvalidRecord, Store, _name


class CanaryStore:
    def __init__(self, store: Store):
        self.store = store

    # -----------------------------------------------------------------------------------------
    # Variants
    # -----------------------------------------------------------------------------------------

    def assign(self, assignment: VariantAssignment) -> VariantAssignment:
        """Record the build's variant, or return the one it already has."""
        _name(assignment.tenant, "tenant")
        try:
            with self.store._writing() as conn:
                self.store._require_build(conn, assignment.build_id, lock=True)
                found = self._variant(conn, assignment.build_id)
                if found is not None:
                    return found
                values = assignment.model_dump(mode="python")
                values["variant"] = assignment.variant.value
                conn.execute(insert(build_variants).values(**values))
        except IntegrityError:  # two drivers raced past the check: the first one's stands
            pass
        found = self.variant_of(assignment.build_id)
        assert found is not None
        return found

    def variant_of(self, build_id: str) -> VariantAssignment | None:
        with self.store._reading() as conn:
            return self._variant(conn, build_id)

    @staticmethod
    def _variant(conn, build_id: str) -> VariantAssignment | None:
        row = conn.execute(select(build_variants).where(build_variants.c.build_id == build_id)).mappings().first()
        return None if row is None else VariantAssignment.model_validate(dict(row))

    # -----------------------------------------------------------------------------------------
    # Samples
    # -----------------------------------------------------------------------------------------

    def put_sample(self, sample: CanarySample) -> CanarySample:
        _name(sample.tenant, "tenant")
        values = sample.model_dump(mode="python")
        values["variant"] = sample.variant.value
        with self.store._writing() as conn:
            conn.execute(delete(canary_samples).where(canary_samples.c.build_id == sample.build_id))
            conn.execute(insert(canary_samples).values(**values))
        return sample

    def list_samples(self, tenant: str | None = None, since: datetime | None = None) -> list[CanarySample]:
        """Oldest first; one tenant's or every tenant's."""
        query = select(canary_samples).order_by(canary_samples.c.finished_at, canary_samples.c.build_id)
        if tenant is not None:
            query = query.where(canary_samples.c.tenant == tenant)
        if since is not None:
            query = query.where(canary_samples.c.finished_at >= since)
        with self.store._reading() as conn:
            return [CanarySample.model_validate(dict(row)) for row in conn.execute(query).mappings()]

    def sample_counts(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(tenant, variant) -> (samples, successes), every sample counted."""
        query = (select(canary_samples.c.tenant, canary_samples.c.variant, func.count(),
                        func.coalesce(func.sum(case((canary_samples.c.success, 1), else_=0)), 0).cast(Integer))
                 .group_by(canary_samples.c.tenant, canary_samples.c.variant))
        with self.store._reading() as conn:
            return {(tenant, variant): (int(n), int(ok)) for tenant, variant, n, ok in conn.execute(query).all()}

    def sample_tenants(self) -> list[str]:
        with self.store._reading() as conn:
            return sorted(conn.execute(select(canary_samples.c.tenant).distinct()).scalars())

    # -----------------------------------------------------------------------------------------
    # Reports
    # -----------------------------------------------------------------------------------------

    def save_report(self, report: CanaryReport) -> CanaryReport:
        if report.tenant:
            _name(report.tenant, "tenant")
        with self.store._writing() as conn:
            conn.execute(insert(canary_reports).values(
                tenant=report.tenant, generated_at=report.generated_at,
                recommendation=report.recommendation, regression=report.regression,
                report_json=report.model_dump_json()))
        return report

    def latest_report(self, tenant: str = "") -> CanaryReport | None:
        """The newest report of one tenant ("" for every tenant together)."""
        query = (select(canary_reports.c.report_json).where(canary_reports.c.tenant == tenant)
                 .order_by(canary_reports.c.generated_at.desc(), canary_reports.c.id.desc()).limit(1))
        with self.store._reading() as conn:
            text = conn.execute(query).scalar()
        if text is None:
            return None
        try:
            return CanaryReport.model_validate_json(text)
        except ValueError as exc:  # a report written by an incompatible version
            raise InvalidRecord(f"the stored canary report of {tenant or 'every tenant'} cannot be read: "
                                f"{str(exc).splitlines()[0]}") from None


__all__ = ["CanaryStore", "Variant"]
