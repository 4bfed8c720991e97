"""The conversation column: the chat, the question box, Send and Stop, a new conversation, examples.

The question box stays editable while an answer is made; Send is disabled and Stop cancels it.
"""

from __future__ import annotations

import html

import gradio as gr

from qa.answer import Answer
from qa.service import Delta, QAService, Stage
from qa.validation import InvalidRequest
from ui.labels import I18N, label
from ui.render import answer_html, stopped_html, streaming_html


class Conversation:
    """The column's components and the handlers of its events."""

    def __init__(self, service: QAService):
        self.service = service
        self.history = gr.State([])  # plain-text turns sent to the service for follow-ups
        with gr.Column(scale=1, min_width=320):
            self.chat = gr.Chatbot(height="min(620px, 68vh)", elem_id="chat", buttons=["copy"],
                                   feedback_options=None, show_label=False, latex_delimiters=[],
                                   group_consecutive_messages=False)
            with gr.Row():
                self.question = gr.Textbox(placeholder=I18N("placeholder"), label=I18N("question"),
                                           show_label=False, scale=5, min_width=160, elem_id="question",
                                           max_length=service.settings.max_question_chars)
                self.send = gr.Button(I18N("send"), variant="primary", scale=1, min_width=90, elem_id="send")
                self.stop = gr.Button(I18N("stop"), variant="stop", scale=1, min_width=90, elem_id="stop",
                                      visible=False)
            self.new = gr.Button(I18N("new"), size="sm", elem_id="new-conversation")
            if asked := service.example_questions():
                gr.Examples([[q] for q in asked], inputs=[self.question], label=I18N("examples"))

    def listen(self, ui_language: gr.State) -> None:
        """Send (or Enter) answers; Stop and New conversation cancel the answer being made."""
        answering = gr.on([self.send.click, self.question.submit], self.respond,
                          [self.question, self.chat, self.history, ui_language],
                          [self.chat, self.history, self.question, self.send, self.stop],
                          concurrency_limit=self.service.settings.ui_concurrency, concurrency_id="answers",
                          trigger_mode="once", show_progress="hidden")
        self.stop.click(self.stopped, [self.chat, ui_language], [self.chat, self.send, self.stop],
                        cancels=[answering], queue=False)
        self.new.click(lambda: ([], []), None, [self.chat, self.history], cancels=[answering], queue=False).then(
            lambda: _ready(), None, [self.send, self.stop], queue=False)

    def respond(self, text: str, messages: list, turns: list, lang: str):
        """The answer as it is made: the stage reached and the text so far, then the answer with its sources."""
        text = (text or "").strip()
        if not text:
            yield messages, turns, gr.update(), gr.update(), gr.update()
            return
        messages = messages + [{"role": "user", "content": text},
                               {"role": "assistant", "content": streaming_html("", "searching", lang)}]
        yield messages, turns, "", *_busy()
        written, stage, evidence = "", "searching", ()
        try:
            for event in self.service.ask_stream(text, history=turns):
                if isinstance(event, Answer):
                    messages[-1] = {"role": "assistant", "content": answer_html(event)}
                    turns = turns + [{"role": "user", "content": text}, {"role": "assistant", "content": event.answer}]
                    yield messages, turns[-self.service.settings.max_history_turns:], gr.update(), *_ready()
                    continue
                if isinstance(event, Stage):
                    stage, evidence = event.name, event.evidence or evidence
                elif isinstance(event, Delta):
                    written += event.text
                messages[-1] = {"role": "assistant", "content": streaming_html(written, stage, lang, evidence)}
                yield messages, turns, gr.update(), gr.update(), gr.update()
        except InvalidRequest as exc:
            messages[-1] = {"role": "assistant", "content": _error(lang, str(exc))}
            yield messages, turns, gr.update(), *_ready()
        except Exception as exc:  # noqa: BLE001 - shown to the person as a message, never as a traceback
            messages[-1] = {"role": "assistant", "content": _error(lang, type(exc).__name__)}
            yield messages, turns, gr.update(), *_ready()

    def stopped(self, messages: list, lang: str):
        """The answer being made gives way to a note that it was stopped."""
        if messages and messages[-1].get("role") == "assistant":
            messages = messages[:-1] + [{"role": "assistant", "content": stopped_html(lang)}]
        return messages, *_ready()


def _busy() -> tuple[dict, dict]:
    """Send disabled and Stop shown, while an answer is made."""
    return gr.update(interactive=False), gr.update(visible=True)


def _ready() -> tuple[dict, dict]:
    """Send enabled and Stop hidden, once no answer is being made."""
    return gr.update(interactive=True), gr.update(visible=False)


def _error(lang: str, message: str) -> str:
    return f'<div class="answer abstained">{html.escape(label(lang, "error", message=message))}</div>'
