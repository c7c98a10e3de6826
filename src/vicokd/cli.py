"""The project's ``kedro run`` (Kedro takes ``run`` from a project's ``cli.py``; ``python -m vicokd``
and the ``vicokd`` script run it too): Kedro's own command, whose parameter errors and pre-flight
problems are reported as their message alone, without a traceback, whose ``--params`` says how
to write a list when Kedro's parsing refuses one (it splits ``--params`` at every comma), and whose
default runner keeps reports that are current (:mod:`vicokd.runner`).
"""
import copy

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.validation import ParameterValidationError

from vicokd.preflight.problems import PreflightError

#: The runner of a ``kedro run`` without ``--runner``.
DEFAULT_RUNNER = "vicokd.runner.ReportReusingRunner"
#: How a list is written in ``--params`` (vicokd.parameters).
LIST_HINT = ("Kedro splits --params at every comma: write a list with '+' and integers also as "
             "ranges, e.g. --params \"seeds=3-5,ingestion.homes=Home1+Home2\".")


@click.group(context_settings=CONTEXT_SETTINGS, name=__file__)
def cli() -> None:
    """Command line tools for the vicokd project."""


def _run(**options):
    options["runner"] = options["runner"] or DEFAULT_RUNNER
    try:
        return kedro_run.callback(**options)
    except (ParameterValidationError, PreflightError) as error:
        raise click.ClickException(str(error)) from None


def _with_list_hint(option: click.Parameter) -> click.Parameter:
    """``option`` (``--params``) whose format errors end with :data:`LIST_HINT`."""
    parse = option.callback

    def callback(ctx: click.Context, param: click.Parameter, value):
        try:
            return parse(ctx, param, value)
        except click.UsageError as error:
            raise click.UsageError(f"{error.message}\n{LIST_HINT}", ctx) from None

    hinted = copy.copy(option)
    hinted.callback = callback
    return hinted


run = copy.copy(kedro_run)
run.callback = _run
run.params = [_with_list_hint(option) if option.name == "params" else option
              for option in kedro_run.params]
cli.add_command(run)
