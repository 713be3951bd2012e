"""Computed prose: sentences whose figures come from the notebook's variables (:func:`say`,
:func:`render`) and the run-time line (:func:`say_runtime`)."""

from __future__ import annotations

from .files import measured_runtime

__all__ = ["render", "say", "runtime_sentence", "say_runtime"]


def render(template: str, **values) -> str:
    """``template.format(**values)``, refusing a field that no value fills (a ``ConfigError``
    naming it) instead of leaving a hole in the sentence."""
    import string

    from ..errors import ConfigError
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    missing = sorted({f.split(".")[0].split("[")[0] for f in fields} - set(values))
    if missing:
        raise ConfigError(f"say(): the template names {missing} but no value was given for "
                          f"{'it' if len(missing) == 1 else 'them'}; pass {missing[0]}=...")
    return template.format(**values)


def say(template: str, **values) -> None:
    """Show a Markdown sentence whose figures come from variables: ``say("recall@1 is
    {r:.3f}", r=recall)``. The notebooks state measured numbers this way, never typed into a
    markdown cell, so the prose follows whatever the models produce (``tests/
    test_notebook_prose.py`` checks that every figure in a markdown cell is shown by an output).
    """
    from IPython.display import Markdown, display
    display(Markdown(render(template, **values)))


def runtime_sentence(notebook: str, note: str = "") -> str:
    """The Markdown line stating a notebook's measured run time (:func:`measured_runtime`): on
    which machine, at what load and when it was measured; ``note`` is added after it (what that
    machine lacked, for instance)."""
    t = measured_runtime(notebook)
    if t is None:
        text = ("**Run time**: not measured in this installation (`python "
                f"tools/measure_runtimes.py notebooks {notebook}` measures it).")
    else:
        def when(date, load):
            return date + ("" if load is None else f", load average {load:.1f} at the start")
        fast_when = ("" if t["fast_date"] is None or
                     (t["fast_date"], t["fast_load"]) == (t["date"], t["load"]) else
                     f", measured in another run ({when(t['fast_date'], t['fast_load'])})")
        text = render("**Run time**, as last measured by `tools/measure_runtimes.py` on {cores} "
                      "CPU cores ({when}): {full:.0f} s in full mode; {fast:.0f} s in FAST mode "
                      "(`V2A_FAST=1`){fast_when}.", cores=t["cores"],
                      when=when(t["date"], t["load"]), full=t["full_s"], fast=t["fast_s"],
                      fast_when=fast_when)
    return text + (f" {note}" if note else "")


def say_runtime(notebook: str, note: str = "") -> None:
    """State a notebook's measured run time as a Markdown line (:func:`runtime_sentence`).
    ``tools/measure_runtimes.py`` rewrites this line's output after it records a run, so a
    committed notebook states the same figure as the README's table."""
    say(runtime_sentence(notebook, note))
