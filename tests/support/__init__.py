"""What the tests share: personas, chat and channel factories, fake providers, processes,
sockets, browsers. Test modules import helpers from here, never from one another."""
