/* CApusEntry has no API: its constructor (entry.c) is the whole target. */
#ifndef APUS_ENTRY_H
#define APUS_ENTRY_H
#endif
