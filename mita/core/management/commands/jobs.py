"""`mita jobs`: list recent long jobs, or show one with its progress (--follow to watch it)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mita.core.models import Job


class Command(BaseCommand):
    help = "Show the progress of long jobs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("job_id", nargs="?", help="a job's id; without it, the 20 most recent jobs")
        parser.add_argument("--follow", action="store_true", help="refresh until the job finishes")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["job_id"]:
            for job in Job.objects.all()[:20]:
                self.stdout.write(self._line(job))
            return
        try:
            job = Job.objects.get(pk=options["job_id"])
        except (Job.DoesNotExist, ValueError, Exception) as error:
            raise CommandError(f"No job {options['job_id']}") from error
        self.stdout.write(self._line(job))
        while options["follow"] and not job.is_finished:
            time.sleep(1)
            job.refresh_from_db()
            self.stdout.write(self._line(job))

    @staticmethod
    def _line(job: Job) -> str:
        return f"{job.pk}  {job.status:<9} {job.done:>8}/{job.total:<8} {job.percent:>3}%  {job.title}  {job.message}"
